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

pub mod audit;
pub mod error;
pub mod scim;
pub mod session;
pub mod sso;
mod util;

pub use error::TokenError;
pub use scim::{
    Expiry, GeneratedToken, Grace, GraceToken, PlaintextToken, ScimConfigSummary, TokenHash, TokenHint,
    TokenService, TokenStatus, TokenSummary, VerifiedToken,
};
pub use scimd_store::models::members::Role;
pub use session::{LoginLink, Session, SessionInfo, SessionService, SigningKey};
pub use sso::{
    AzureInput, ClientSecret, SamlInput, SsoFieldError, SsoService, SsoSummary, SsoValidationErrors,
};
