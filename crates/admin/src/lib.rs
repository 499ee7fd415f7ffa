//! The admin pages: Organization Settings > SSO (the SSO connection, SCIM provisioning and the deprovisioning
//! safety valve), members, groups, provisioning activity and the audit trail, server-rendered with askama and
//! usable without JavaScript.
//!
//! - `routes`: every route of the crate, in one `configure`;
//! - `pages/*`: a handler file per page (each with its template struct); `pages/settings/`: Organization
//!   Settings > SSO and its cards (the SSO connection, SCIM provisioning, the safety valve, the limits);
//!   `pages/signin.rs`: the `/sso/...` sign-in handlers; `api/*`: the audit trail and the provisioning
//!   activity as JSON;
//! - `chart`: the provisioning activity chart, a server-rendered SVG;
//! - `session`: the session cookie, and the extractors that verify it on every request (`Authed`) and check
//!   CSRF, Origin and role on every write (`Posted`); `csrf`: the tokens; `security_headers`: CSP and friends;
//! - `error`: the one place errors become HTML error pages (and JSON errors for the API);
//! - `assets`: the files of `web/`, embedded in the binary and served under `/static/` with a version query;
//! - `view`: small formatting helpers shared by the templates' structs.

mod api;
pub mod assets;
pub mod chart;
pub mod csrf;
pub mod error;
pub mod oauth;
mod pages;
pub mod routes;
pub mod security_headers;
pub mod session;
mod state;
mod view;

pub use error::AdminError;
pub use routes::configure;
pub use state::AdminState;
pub use state::LimitDefaults;
