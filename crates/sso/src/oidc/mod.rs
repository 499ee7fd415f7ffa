//! OpenID Connect sign-in with Microsoft Entra ID, authorization code flow with PKCE (`crates/sso/README.md`,
//! "OpenID Connect with Entra ID").
//!
//! - `config`: [`EntraConfig`]: the tenant-specific v2.0 authority (base URL a setting, default
//!   [`DEFAULT_AUTHORITY`]; `http://` only for loopback), tenant and client IDs, the callback URL; the
//!   endpoints derived from them; [`EntraConfig::start`], which makes `state`, `nonce` and the PKCE verifier
//!   and the authorize URL;
//! - `secrets`: [`State`], [`Nonce`], [`PkceVerifier`], [`ClientSecret`]: random values whose `Debug` prints
//!   nothing; comparisons in constant time;
//! - `callback`: [`read_callback`], the `redirect_uri` query: the IdP's `error`, `state`, `code`;
//! - `jwks`: [`Jwks`] (RS256 signing keys by `kid`) and [`JwksCache`], refreshed once on an unknown `kid`,
//!   fetched through the [`JwksFetcher`] trait so tests need no network;
//! - `id_token`: [`EntraConfig::validate_id_token`]: RS256 only, a known `kid`, exact `iss`, `aud`, `tid`,
//!   `ver`, `nonce`, and `exp`/`nbf`/`iat` against the caller's `now` with leeway;
//! - `http`: the outbound client (awc + rustls on ring, compiled-in roots, timeouts, no redirects, capped
//!   bodies) and the token exchange ([`http::exchange_code`]);
//! - `error`: [`OidcError`], with a stable `reason_code()` for the audit trail.
//!
//! The identity key is `(tid, oid)` ([`IdTokenClaims::object_id`]); `email` and `preferred_username` are for
//! display only (nOAuth).

mod callback;
mod config;
mod error;
pub mod http;
mod id_token;
mod jwks;
mod secrets;

pub use callback::{AuthorizationCode, read_callback};
pub use config::{AuthorizationStart, DEFAULT_AUTHORITY, DEFAULT_LEEWAY, EntraConfig};
pub use error::OidcError;
pub use id_token::IdTokenClaims;
pub use jwks::{Jwks, JwksCache, JwksFetcher};
pub use secrets::{ClientSecret, Nonce, PkceVerifier, State};
