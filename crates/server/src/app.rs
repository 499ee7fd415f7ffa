//! The one actix App: the shared state and the routes of every service, composed in one place.

pub use crate::state::AppState;
use actix_web::web;

/// Registers the state and the routes of every service.
pub fn configure(state: &AppState, cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(state.clone()));
    crate::health::configure(cfg);
    // Before the admin pages, whose `/api/v1/orgs/{org}` scope would take the directory API's paths.
    crate::platform_api::configure(cfg);
    scimd_admin::configure(&state.admin, cfg);
    crate::scim_api::routes::configure(cfg);
}
