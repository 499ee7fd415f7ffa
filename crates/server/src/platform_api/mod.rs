//! The platform API (`/api/v1/events`, `/api/v1/orgs/...`): what the application whose members these are
//! reads, with an API key (`scimd api-key create`; `Authorization: Bearer scimd_ak_...`). SCIM tokens and
//! admin cookies do not work here, and API keys do not work on SCIM.
//!
//! - `events`: the ordered feed, with a cursor that never skips and a long poll;
//! - `directory`: the orgs, users, groups and group members, in keyset pages with their `as_of_cursor`;
//!   `directory_json`: what it answers;
//! - `audit` and `activity`: an org's audit trail and its provisioning activity (the SCIM requests), newest
//!   first;
//! - `auth`: the key of a request and its limits;
//! - `error`: `PlatformApiError`, the one place this API's failures become responses;
//! - `openapi`: the OpenAPI 3.1 document of all of it, served at `/api/v1/openapi.json`.

pub mod activity;
pub mod audit;
pub mod auth;
pub mod directory;
pub mod directory_json;
pub mod error;
pub mod events;
pub mod openapi;

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, web};
use utoipa::openapi::path::HttpMethod;

/// Whether an operation needs an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    ApiKey,
    Public,
}

/// What [`operations`] lists the operations to: the app's routes, or the OpenAPI document.
pub trait Operations {
    /// The operation `P` (a handler's `#[utoipa::path]`) served by `handler`, at `P`'s path and methods;
    /// `tag` groups it in the document.
    fn add<P, F, Args>(&mut self, auth: Auth, tag: &'static str, handler: F)
    where
        P: utoipa::Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static;
}

/// Every operation of the platform API, once: `configure` registers each at the path and methods its
/// `#[utoipa::path]` documents, and `openapi::document` documents this same list, so that the document and
/// the routes cannot differ.
pub fn operations(to: &mut impl Operations) {
    use Auth::{ApiKey, Public};
    const DIRECTORY: &str = "directory";
    to.add::<events::__path_list, _, _>(ApiKey, "events", events::list);
    to.add::<directory::__path_orgs, _, _>(ApiKey, DIRECTORY, directory::orgs);
    to.add::<directory::__path_users, _, _>(ApiKey, DIRECTORY, directory::users);
    to.add::<directory::__path_user, _, _>(ApiKey, DIRECTORY, directory::user);
    to.add::<directory::__path_groups, _, _>(ApiKey, DIRECTORY, directory::groups);
    to.add::<directory::__path_group, _, _>(ApiKey, DIRECTORY, directory::group);
    to.add::<directory::__path_group_members, _, _>(ApiKey, DIRECTORY, directory::group_members);
    to.add::<audit::__path_audit, _, _>(ApiKey, "audit", audit::audit);
    to.add::<activity::__path_activity, _, _>(ApiKey, "audit", activity::activity);
    to.add::<openapi::__path_served, _, _>(Public, "meta", openapi::served);
}

impl Operations for web::ServiceConfig {
    fn add<P, F, Args>(&mut self, _: Auth, _: &'static str, handler: F)
    where
        P: utoipa::Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        for method in P::methods() {
            self.route(&P::path(), web::method(http_method(&method)).to(handler.clone()));
        }
    }
}

/// The routes and their methods, as [`operations`] registers them (for the test that compares them with the
/// document): `("GET", "/api/v1/events")`, ...
pub fn routes() -> Vec<(String, String)> {
    struct Listed(Vec<(String, String)>);
    impl Operations for Listed {
        fn add<P, F, Args>(&mut self, _: Auth, _: &'static str, _: F)
        where
            P: utoipa::Path,
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            for method in P::methods() {
                self.0.push((http_method(&method).to_string(), P::path()));
            }
        }
    }
    let mut listed = Listed(Vec::new());
    operations(&mut listed);
    listed.0
}

fn http_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// The platform API's routes: everything under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    operations(cfg);
}
