//! `scimd serve`: open (and migrate) the database, bootstrap the demo org on a newcomer's empty database (see
//! `bootstrap::wanted`), print where to go, and serve until a shutdown signal.

use crate::bootstrap;
use crate::config::ServeArgs;
use crate::error::ServerError;
use scimd_store::{StoreOptions, SystemClock};
use std::sync::Arc;

pub(super) fn run(
    database_url: &str,
    args: &ServeArgs,
    keys: &scimd_tokens::KeySettings,
    webhook_limits: scimd_webhooks::WebhookLimits,
) -> Result<(), ServerError> {
    let config = args.validate()?;
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
