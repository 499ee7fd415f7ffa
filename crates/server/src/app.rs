//! The one actix App: the shared state and the routes of every service, composed in one place.

use crate::config::ServeConfig;
use crate::org_limiter::OrgLimiter;
pub use crate::state::AppState;
use actix_web::web;
use scimd_store::{Clock, Store};
use std::sync::Arc;

/// Every service over `store`, as `scimd serve` runs them (the server's tests build the app with it too).
pub fn state(
    store: &Store,
    clock: Arc<dyn Clock>,
    public_url: &str,
    keys: scimd_tokens::Keys,
    config: &ServeConfig,
    webhook_limits: impl Into<scimd_webhooks::WebhookLimits>,
) -> AppState {
    let webhook_limits = webhook_limits.into();
    let webhooks = scimd_webhooks::WebhookService::new(
        store.clone(),
        clock.clone(),
        keys.sso_secret.clone(),
        webhook_limits.policy,
    )
    .with_max_endpoints_per_org(webhook_limits.max_endpoints_per_org);
    let limits = OrgLimiter::new(store.clone(), config.org_limits);
    let ssf_limits = limits.clone();
    let ssf = scimd_ssf::SsfService::new(
        store.clone(),
        clock.clone(),
        public_url,
        keys.sso_secret.clone(),
        webhook_limits.policy,
    )
    // A receiver's key is held to the platform API's limits, in the same bucket as its platform API calls.
    .with_admission(Arc::new(move |key_id: &str| {
        use crate::org_limiter::{AdmitError, Refusal};
        match ssf_limits.admit(&scimd_store::OrgId::new(format!("api-key:{key_id}"))) {
            Ok(admission) => Ok(Box::new(admission) as Box<dyn std::any::Any + Send>),
            Err(AdmitError::Refused(Refusal::Rate { retry_after_secs })) => {
                Err(scimd_ssf::SsfError::Limited { retry_after_secs })
            }
            Err(AdmitError::Refused(Refusal::InFlight { .. })) => {
                Err(scimd_ssf::SsfError::Limited { retry_after_secs: 1 })
            }
            Err(AdmitError::Store(e)) => Err(scimd_ssf::SsfError::Store(e)),
        }
    }));
    let admin = admin_state(store, clock.clone(), public_url, keys)
        .with_limit_defaults(scimd_admin::LimitDefaults {
            rate: config.org_limits.rate.get(),
            burst: config.org_limits.burst.get(),
            in_flight: config.org_limits.in_flight.get(),
        })
        .with_webhooks(webhooks.clone())
        .with_entra_authority(&config.entra_authority)
        .with_signin_pending_cap(config.signin_limits.pending_per_org.get());
    AppState {
        store: store.clone(),
        tokens: scimd_tokens::TokenService::new(store.clone(), clock.clone(), public_url.to_owned()),
        clock: clock.clone(),
        public_url: public_url.to_owned(),
        admin,
        limits,
        signin_limits: crate::signin_limiter::SignInLimiter::new(config.signin_limits),
        api_keys: scimd_tokens::ApiKeyService::new(store.clone(), clock),
        webhooks,
        ssf,
    }
}

/// The admin pages' services (sessions signed with the same key as the CLI's login links).
fn admin_state(
    store: &Store,
    clock: Arc<dyn Clock>,
    public_url: &str,
    keys: scimd_tokens::Keys,
) -> scimd_admin::AdminState {
    scimd_admin::AdminState::new(
        store.clone(),
        clock.clone(),
        scimd_tokens::TokenService::new(store.clone(), clock.clone(), public_url.to_owned()),
        scimd_tokens::SessionService::new(store.clone(), clock.clone(), keys.session, public_url.to_owned()),
        scimd_signin::ConnectionService::new(store.clone(), clock).with_secret_key(keys.sso_secret.clone()),
        public_url,
    )
    .with_provider_secret_key(keys.sso_secret)
}

/// Registers the state and the routes of every service.
pub fn configure(state: &AppState, cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(state.clone()));
    crate::health::configure(cfg);
    crate::platform_api::configure(cfg);
    scimd_admin::configure(&state.admin, cfg);
    scimd_ssf::configure(&state.ssf, cfg);
    crate::scim_api::routes::configure(cfg);
}
