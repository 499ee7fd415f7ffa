//! `scimd serve`: open (and migrate) the database, bootstrap the demo org on a newcomer's empty database (see
//! `bootstrap::wanted`), print where to go, and serve until a shutdown signal.

use crate::bootstrap;
use crate::config::ServeArgs;
use crate::error::ServerError;
use crate::org_limiter::OrgLimiter;
use crate::state::AppState;
use scimd_store::{StoreOptions, SystemClock};
use std::sync::Arc;

pub(super) fn run(
    database_url: &str,
    args: &ServeArgs,
    keys: &scimd_tokens::KeySettings,
    webhook_policy: scimd_webhooks::AddressPolicy,
) -> Result<(), ServerError> {
    let config = args.validate()?;
    let (listener, public_url) = config.listen()?;
    let store = super::open_store(
        database_url,
        StoreOptions {
            max_connections: config.db_max_connections,
            statement_timeout: config.statement_timeout,
            ..StoreOptions::default()
        },
    )?;
    let clock: Arc<dyn scimd_store::Clock> = Arc::new(SystemClock);
    let keys = super::keys(&store, keys)?;
    if config.demo && store.backend() == scimd_store::Backend::Postgres {
        tracing::warn!("--demo is ignored on PostgreSQL: no demo org is created there");
    }
    if bootstrap::wanted(&config, database_url, store.backend())
        && let Some(demo) = bootstrap::demo_org_if_empty(&store, clock.as_ref())?
    {
        println!(
            "Bootstrapped a demo organization: {} (id {})",
            demo.org.name, demo.org.id
        );
        println!("  owner: {}", demo.owner_email);
        let link =
            crate::bootstrap::demo_sso_and_login_link(&store, clock.clone(), &public_url, &keys, &demo)?;
        println!(
            "  SSO: Azure AD (placeholder tenant); SCIM tokens: scimd token generate --org {}",
            demo.org.id
        );
        println!("  admin login link (single use, 10 minutes): {}", link.url);
    }
    let webhooks = scimd_webhooks::WebhookService::new(
        store.clone(),
        clock.clone(),
        keys.sso_secret.clone(),
        webhook_policy,
    );
    let admin = admin_state(&store, clock.clone(), &public_url, keys)
        .with_limit_defaults(scimd_admin::LimitDefaults {
            rate: config.org_limits.rate.get(),
            burst: config.org_limits.burst.get(),
            in_flight: config.org_limits.in_flight.get(),
        })
        .with_webhooks(webhooks.clone())
        .with_entra_authority(&config.entra_authority);
    let state = AppState {
        store: store.clone(),
        tokens: scimd_tokens::TokenService::new(store.clone(), clock.clone(), public_url.clone()),
        clock: clock.clone(),
        public_url: public_url.clone(),
        admin,
        limits: OrgLimiter::new(store.clone(), config.org_limits),
        api_keys: scimd_tokens::ApiKeyService::new(store.clone(), clock.clone()),
        webhooks,
    };
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
        println!(
            "scimd listening on http://{} (public URL {})",
            running.addr, public_url
        );
        tracing::info!(addr = %running.addr, database = %store.redacted_url(), "scimd started");
        running.run_to_end().await?;
        tracing::info!("scimd stopped");
        Ok(())
    })
}

/// The admin pages' services (sessions signed with the same key as the CLI's login links).
fn admin_state(
    store: &scimd_store::Store,
    clock: Arc<dyn scimd_store::Clock>,
    public_url: &str,
    keys: scimd_tokens::Keys,
) -> scimd_admin::AdminState {
    scimd_admin::AdminState::new(
        store.clone(),
        clock.clone(),
        scimd_tokens::TokenService::new(store.clone(), clock.clone(), public_url.to_owned()),
        scimd_tokens::SessionService::new(store.clone(), clock.clone(), keys.session, public_url.to_owned()),
        scimd_tokens::SsoService::new(store.clone(), clock).with_secret_key(keys.sso_secret.clone()),
        public_url,
    )
    .with_provider_secret_key(keys.sso_secret)
}
