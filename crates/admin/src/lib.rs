//! The admin crate: the three surfaces that stand on an admin session, server-rendered with askama and usable
//! without JavaScript.
//!
//! - the pages (`/admin/...`): a handler file per page in `pages/` (each with its template struct):
//!   Organization Settings in `pages/settings/`, a file per card (the SSO connection is `connection.rs`; SCIM
//!   provisioning, the limits and the deprovisioning safety valve beside it; the page is
//!   `templates/pages/settings.html`), then members, groups, provisioning activity, the audit trail,
//!   webhooks, and the login-link pages (`pages/login.rs`);
//! - sign-in through the org's IdP (`pages/signin.rs`): `/admin/sso`, `/sso/{org}/start`, the SAML ACS and
//!   metadata and the Entra callback under `/sso/...`, the browser's side of `scimd-signin`;
//! - "Sign in with scimd", the OpenID Provider's endpoints (`oauth`): `/.well-known/openid-configuration` and
//!   `/oauth/...`, with `OAuthHttpError`, their RFC 6749 error objects.
//!
//! Around them: `routes`, every route in one `configure`; `session`, the session cookie and the extractors
//! that verify it on every request (`Authed`) and check CSRF, Origin and role on every write (`Posted`);
//! `csrf`, the tokens; `security_headers`, CSP and friends, added by the one scope of `routes`; `error`, the
//! one place the pages' errors become responses; `chart`, the activity chart as a
//! server-rendered SVG; `assets`, the files of `web/`, embedded and served under `/static/` with a version
//! query; `view`, small formatting helpers shared by the templates' structs.

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
pub use pages::settings::connection::DEMO_PLACEHOLDER_TENANT_ID;
pub use routes::configure;
pub use state::AdminState;
pub use state::LimitDefaults;
