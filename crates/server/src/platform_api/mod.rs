//! The platform API (`/api/v1/events`, `/api/v1/orgs/...`): what the application whose members these are
//! reads, with an API key (`scimd api-key create`; `Authorization: Bearer scimd_ak_...`). SCIM tokens and
//! admin cookies do not work here, and API keys do not work on SCIM.
//!
//! - `events`: the ordered feed, with a cursor that never skips and a long poll;
//! - `directory`: the orgs, users, groups and group members, in keyset pages with their `as_of_cursor`;
//! - `auth`: the key of a request and its limits;
//! - `error`: `PlatformApiError`, the one place this API's failures become responses.

pub mod auth;
pub mod directory;
pub mod error;
pub mod events;

use actix_web::web;

/// Registered before the admin pages: their scope `/api/v1/orgs/{org}` (the admin session's `audit` and
/// `activity`) would otherwise answer 404 for these paths.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/events", web::get().to(events::list))
        .route("/api/v1/orgs", web::get().to(directory::orgs))
        .route("/api/v1/orgs/{org}/users", web::get().to(directory::users))
        .route("/api/v1/orgs/{org}/users/{id}", web::get().to(directory::user))
        .route("/api/v1/orgs/{org}/groups", web::get().to(directory::groups))
        .route("/api/v1/orgs/{org}/groups/{id}", web::get().to(directory::group))
        .route(
            "/api/v1/orgs/{org}/groups/{id}/members",
            web::get().to(directory::group_members),
        );
}
