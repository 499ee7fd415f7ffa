//! Every secret scimd hands out, and the SSO settings SCIM provisioning depends on.
//!
//! - `scim`: SCIM bearer tokens: the format (`scimd_` + 256 random bits in base62 + a CRC32 checksum), the
//!   secret types, and `TokenService` (generate, regenerate with grace, revoke, verify, list);
//! - `session`: admin login links and sessions (HS256 JWTs naming rows), `SessionService`, `SigningKey`;
//! - `sso`: the org's SSO connection (SAML or Azure AD), validated field by field, secrets encrypted at rest;
//! - `audit`: the audit actions recorded here; `error`: `TokenError`, the crate's one error type.
//!
//! Plaintext tokens exist once (`PlaintextToken`); only SHA-256 hashes and hints are stored; no token, cookie
//! or email address reaches a log line.
//!
//! # For the HTTP layers
//!
//! - SCIM API: call `TokenService::verify(url_org, authorization_header)` before anything else. Map
//!   `TokenError::Unauthorized` to one fixed 401 (same status, headers incl. `WWW-Authenticate: Bearer`, and
//!   body for every class) and any other error (`is_unavailable()`) to 503: a database outage must not look
//!   like a bad token, or IdPs stop provisioning. Never log the header. Tests to write there: the six classes
//!   (missing, empty, malformed, bad checksum, unknown, revoked/expired) give byte-identical responses; two
//!   `scimd` processes on one database (both backends): revoke through one, the next request through the
//!   other is 401; a verified request's end-to-end figure in `BENCHMARKS.md`.
//! - Admin pages: `SessionService::exchange_login_link` at `/admin/login?token=...` sets the cookie
//!   (HttpOnly, SameSite=Lax, Secure over https, lifetime `Session::expires_at`); `verify_session` on every
//!   request; `SessionInfo::can_edit()` gates writes (403 for role `member`). The key is
//!   `SigningKey::resolve(config, &store)`, the same in every process. Show `SsoFieldError`s next to their
//!   fields (`field()`); render `TokenError::SsoRequired` as the "set up SSO first" state of the SCIM section.

pub mod audit;
pub mod bearer;
pub mod error;
pub mod session;
pub mod sso;
mod util;

pub use bearer::{
    Expiry, GeneratedToken, Grace, GraceToken, PlaintextToken, ScimConfigSummary, TokenHash, TokenHint,
    TokenService, TokenStatus, TokenSummary, VerifiedToken,
};
pub use error::TokenError;
pub use scimd_store::models::members::Role;
pub use session::{LoginLink, Session, SessionInfo, SessionService, SigningKey};
pub use sso::{
    AzureInput, ClientSecret, SamlInput, SsoFieldError, SsoService, SsoSummary, SsoValidationErrors,
};
