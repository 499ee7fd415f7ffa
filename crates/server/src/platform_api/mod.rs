//! The platform API (`/api/v1/events`): what the application whose members these are reads, with an API key
//! (`scimd api-key create`; `Authorization: Bearer scimd_ak_...`). SCIM tokens and admin cookies do not work
//! here, and API keys do not work on SCIM.
//!
//! - `events`: the ordered feed, with a cursor that never skips and a long poll;
//! - `error`: `PlatformApiError`, the one place this API's failures become responses.

pub mod error;
pub mod events;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/events", web::get().to(events::list));
}
