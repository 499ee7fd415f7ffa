//! `scimd serve`: open (and migrate) the database, bootstrap the demo org on a newcomer's empty database (see
//! `bootstrap::wanted`), print where to go, and serve until a shutdown signal.

use super::output::outln;
use crate::bootstrap;
use crate::config::ServeArgs;
use crate::error::ServerError;
use scimd_store::{Backend, StoreOptions, SystemClock};
use scimd_tokens::KeySettings;
use std::sync::Arc;

pub(super) fn run(
    database_url: &str,
    args: &ServeArgs,
    keys: &KeySettings,
    webhook_limits: scimd_webhooks::WebhookLimits,
) -> Result<(), ServerError> {
    let config = args.validate()?;
    let backend = scimd_store::DatabaseUrl::parse(database_url)
        .map_err(ServerError::Database)?
        .backend();
    keys_outside_the_database(backend, keys, config.allow_keys_in_database)?;
    let (listener, public_url) = config.listen()?;
    let store = super::open_store(
        database_url,
        StoreOptions {
            max_connections: config.db_max_connections,
            statement_timeout: config.statement_timeout,
            connection_timeout: config.db_checkout_timeout,
            connect_timeout: config.db_connect_timeout,
        },
    )?;
    let clock: Arc<dyn scimd_store::Clock> = Arc::new(SystemClock);
    let keys = super::keys(&store, keys)?;
    say_where_the_keys_are(&keys);
    if config.demo && store.backend() == scimd_store::Backend::Postgres {
        tracing::warn!("--demo is ignored on PostgreSQL: no demo org is created there");
    }
    let demo = if bootstrap::wanted(&config, database_url, store.backend()) {
        bootstrap::demo_org_if_empty(&store, clock.as_ref())?
    } else {
        None
    };
    if let Some(demo) = demo {
        outln!(
            "Bootstrapped a demo organization: {} (id {})",
            demo.org.name,
            demo.org.id
        );
        outln!("  owner: {}", demo.owner_email);
        let link =
            crate::bootstrap::demo_sso_and_login_link(&store, clock.clone(), &public_url, &keys, &demo)?;
        outln!(
            "  SSO: Azure AD (placeholder tenant); SCIM tokens: scimd token generate --org {}",
            demo.org.id
        );
        outln!("  admin login link (single use, 10 minutes): {}", link.url);
    } else {
        outln!("{}", bootstrap::next_step(&store)?);
    }
    let state = crate::app::state(&store, clock, &public_url, keys, &config, webhook_limits);
    actix_web::rt::System::new().block_on(async move {
        let client_addr = if config.trust_forwarded_for {
            crate::telemetry::ClientAddr::Forwarded
        } else {
            crate::telemetry::ClientAddr::Peer
        };
        let running = crate::serve::start(
            listener,
            config.workers,
            client_addr,
            config.event_retention,
            state,
        )?;
        outln!(
            "scimd listening on http://{} (public URL {})",
            running.addr,
            public_url
        );
        tracing::info!(addr = %running.addr, database = %store.redacted_url(), "scimd started");
        running.run_to_end().await?;
        tracing::info!("scimd stopped");
        Ok(())
    })
}

/// On PostgreSQL (production, shared by processes and backed up) the keys must come from outside the database:
/// with them in `server_secrets`, one leaked backup signs sessions and ID tokens and opens every sealed secret.
/// SQLite (one box, the embedded default) keeps generating them.
fn keys_outside_the_database(
    backend: Backend,
    keys: &KeySettings,
    allow_keys_in_database: bool,
) -> Result<(), ServerError> {
    let missing = keys.missing();
    if backend != Backend::Postgres || missing.is_empty() {
        return Ok(());
    }
    let names = missing
        .iter()
        .map(|name| format!("{name} (or {name}_FILE)"))
        .collect::<Vec<_>>()
        .join(" and ");
    if allow_keys_in_database {
        tracing::warn!(
            missing = %names,
            "SCIMD_ALLOW_KEYS_IN_DATABASE=true: the keys are kept in the database, so one leaked backup signs \
             sessions and ID tokens and opens every SSO and webhook secret"
        );
        return Ok(());
    }
    Err(ServerError::Keys(format!(
        "on PostgreSQL, scimd serve needs its keys from outside the database: set {names}. Make each with \
         `scimd keys generate` and give it as a secret (docs/OPERATIONS.md, Keys). To keep them in the database \
         anyway, set SCIMD_ALLOW_KEYS_IN_DATABASE=true"
    )))
}

/// One line at start saying where each key comes from (never the key).
fn say_where_the_keys_are(keys: &scimd_tokens::Keys) {
    let session = if keys.session_configured {
        "given"
    } else {
        "kept in the database"
    };
    let secret = if keys.sso_secret.is_some() {
        "given"
    } else {
        "kept in the database"
    };
    tracing::info!(
        session_signing_key = session,
        secret_key = secret,
        "keys: the session signing key is {session}, the secret key is {secret} (docs/OPERATIONS.md, Keys)"
    );
}
