//! `AppState`: what every handler can reach, defined apart from the composition root (`app`) so that the
//! handlers below it do not import back up.

use scimd_store::{Clock, Store};
use std::sync::Arc;

/// What every handler can reach. Cloned into each worker; everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The server's public URL, without a trailing slash.
    pub public_url: String,
    /// The admin pages (Organization Settings > SSO).
    pub admin: scimd_admin::AdminState,
    /// Verifies the SCIM API's bearer tokens.
    pub tokens: scimd_tokens::TokenService,
    /// Each org's request rate and requests in flight on the SCIM API.
    pub limits: crate::org_limiter::OrgLimiter,
    /// Verifies the platform API's keys.
    pub api_keys: scimd_tokens::ApiKeyService,
    /// The throttle of the public sign-in endpoints.
    pub signin_limits: crate::signin_limiter::SignInLimiter,
    /// The webhook endpoints; the server runs their delivery worker.
    pub webhooks: scimd_webhooks::WebhookService,
    /// The Shared Signals transmitter; the server runs its push worker.
    pub ssf: scimd_ssf::SsfService,
}
