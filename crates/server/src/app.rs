//! The one actix App: shared state and the routes of every service, composed in one place.

use actix_web::web;
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
}

/// Registers the state and the routes of every service.
pub fn configure(state: &AppState, cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(state.clone()));
    crate::health::configure(cfg);
    state.admin.configure(cfg);
    crate::scim::routes::configure(cfg);
}
