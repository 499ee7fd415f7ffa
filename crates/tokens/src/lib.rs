//! Every secret scimd hands out: SCIM bearer tokens, admin sessions, the platform's API keys, and the keys and
//! cipher behind them.
//!
//! - `bearer`: SCIM bearer tokens: the format (`scimd_` + 256 random bits in base62 + a CRC32 checksum), the
//!   secret types, and `TokenService` (generate, regenerate with grace, revoke, verify, list);
//! - `session`: admin login links and sessions (HS256 JWTs naming rows), `SessionService`;
//! - `keys`: the session `SigningKey` and the `SecretKey`, and where they come from (files, environment, or
//!   the database);
//! - `cipher`: encryption at rest of the secrets that must be read back (the SSO connection's Azure AD client
//!   secret, webhook signing secrets, the OpenID Provider's keys), each naming its key, and their re-sealing
//!   under a new key (`scimd keys rotate`);
//! - `random`: random bytes from the OS generator, for this crate, `signin` and `webhooks`;
//! - `api_keys`: the platform API's keys (`scimd_ak_`), `ApiKeyService` (create, list, revoke, verify);
//! - `audit`: the audit actions recorded here and by the SSO connection (`scimd_signin::connection`), and the
//!   feed events some of them append; `error`: `TokenError`, the crate's one error type.
//!
//! Plaintext tokens exist once (`PlaintextToken`); only SHA-256 hashes and hints are stored; no token, cookie
//! or email address reaches a log line.
//!
//! # Using it
//!
//! - **Keys**: `KeySettings { .. }.resolve(&store)` (the settings the server read) gives the session signing
//!   key and the optional SSO-secret key (files or values, else stored in the database); pass `keys.session` to
//!   `SessionService::new` and `keys.sso_secret` to `scimd_signin::ConnectionService::with_secret_key`.
//! - **SCIM API**: `TokenService::verify(url_org, authorization_header)` (or `verify_blocking` inside a
//!   blocking unit of work) before anything else. Every refused credential is `TokenError::Unauthorized`:
//!   answer each with the same 401 (`WWW-Authenticate: Bearer`); `is_unavailable()` errors are 503, since a
//!   database outage must not look like a bad token. Never log the header.
//! - **Admin pages**: `SessionService::preview_login_link_blocking` for the landing page,
//!   `exchange_login_link_blocking` for its POST (it revokes the browser's previous session),
//!   `verify_session_blocking` on every request (it enforces the idle timeout and keeps `last_seen_at`), and
//!   `SessionInfo::can_edit()` before any write. `SessionSettings` sets the lifetime and the idle timeout.
//! - **Blocking**: every service method except `TokenService::verify` blocks on the database (`*_blocking`).
//!   Async callers run them through `scimd_store::blocking`, once per request rather than once per call.

pub mod api_keys;
pub mod audit;
pub mod bearer;
pub mod cipher;
pub mod error;
pub mod keys;
pub mod random;
pub mod session;
mod util;

pub use api_keys::{ApiKeyAuth, ApiKeyService, CreatedKey};
pub use bearer::{
    Expiry, FollowUp, GeneratedToken, Grace, GraceToken, PlaintextToken, ScimConfigSummary, TokenHash,
    TokenHint, TokenService, TokenStatus, TokenSummary, VerifiedToken,
};
pub use error::TokenError;
pub use keys::{KeySettings, Keys, SecretKey, SigningKey};
pub use session::{
    LoginLink, LoginLinkPreview, Session, SessionInfo, SessionService, SessionSettings, SsoCompletion,
    SsoDecision, SsoHandOff, SsoRefusal, SsoSignIn,
};
