//! "Sign in with scimd": scimd as an OpenID Provider for the platform it serves, so the platform never parses
//! SAML or talks to an org's IdP itself. Authorization code flow with PKCE S256 and a client secret; the
//! person signs in through their org's connection (this crate's SAML or Entra sign-in), and the code is only
//! as good as the admin session it was issued from:
//!
//! - [`OAuthProvider::authorize_blocking`]: an authorize request checked (client, exact redirect URI, S256,
//!   `openid`), and, for a live session of the right org, a code (its SHA-256 stored, single use, 5 minutes);
//! - [`OAuthProvider::token_blocking`]: the code redeemed by its client with the PKCE verifier: an ID token
//!   (RS256 or EdDSA, as the client registered; `sub` the member id, `org_id`, `email` with
//!   `email_verified: false`, `name`, `groups` and `roles` (the member's effective roles) when asked, `sid`, `auth_time`, `at_hash`) and an access token
//!   (its SHA-256 stored) for userinfo and introspection; a replayed code revokes what it was redeemed for;
//! - [`OAuthProvider::introspect_blocking`] (RFC 7662) and [`OAuthProvider::userinfo_blocking`]: active only
//!   while the session lives and the member is active, so a deprovisioning shows at once;
//! - the signing keys: RSA-2048 and Ed25519, generated on first use, sealed under the server's secret key,
//!   rotated by `scimd oauth-key rotate` (the previous keys stay in the JWKS unless `--retire-previous`).
//!
//! A file per part: `clients.rs` (registration), `authorize.rs`, `token.rs` (token, introspection, userinfo,
//! and `live_session`, the one check behind them), `keys.rs` (signing keys, JWKS, rotation); this file holds
//! the provider, its error and the discovery document.

mod authorize;
mod clients;
pub mod keys;
mod token;

pub use authorize::{Authorization, AuthorizeRequest, OrgChoice, SignedInAs};
pub use clients::CreatedClient;
pub use keys::seal_context;
pub use token::TokenRequest;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use scimd_store::{Clock, Store, StoreError};
use scimd_tokens::SecretKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

/// Why an OAuth request was refused, as RFC 6749 names it (`code()`); the surface maps it to HTTP once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant")]
    InvalidGrant,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("unsupported_response_type")]
    UnsupportedResponseType,
    #[error("invalid_scope")]
    InvalidScope,
    #[error("invalid_token")]
    InvalidToken,
    #[error("the signing key could not be used: {0}")]
    Key(String),
    #[error("the operating system's random generator failed")]
    Random,
    #[error(transparent)]
    Token(#[from] scimd_tokens::TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl scimd_store::UnitError for ProviderError {}

impl ProviderError {
    /// The `error` of the OAuth error response.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::InvalidRequest(_) => "invalid_request",
            ProviderError::InvalidClient => "invalid_client",
            ProviderError::InvalidGrant => "invalid_grant",
            ProviderError::UnsupportedGrantType => "unsupported_grant_type",
            ProviderError::UnsupportedResponseType => "unsupported_response_type",
            ProviderError::InvalidScope => "invalid_scope",
            ProviderError::InvalidToken => "invalid_token",
            ProviderError::Key(_)
            | ProviderError::Random
            | ProviderError::Token(_)
            | ProviderError::Store(_) => "server_error",
        }
    }
}

#[derive(Clone)]
pub struct OAuthProvider {
    store: Store,
    clock: Arc<dyn Clock>,
    /// The issuer: scimd's public URL.
    issuer: String,
    secret_key: Option<SecretKey>,
}

impl fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

pub(super) fn digest(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

pub(super) fn random(prefix: &str) -> Result<String, ProviderError> {
    let bytes = scimd_tokens::random::bytes::<32>().map_err(|_| ProviderError::Random)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

pub(super) fn secret_matches(stored_hash: &[u8], presented: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(digest(presented).ct_eq(stored_hash))
}

impl OAuthProvider {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        public_url: &str,
        secret_key: Option<SecretKey>,
    ) -> OAuthProvider {
        OAuthProvider {
            store,
            clock,
            issuer: public_url.trim_end_matches('/').to_owned(),
            secret_key,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The discovery document (`/.well-known/openid-configuration`).
    pub fn discovery(&self) -> Value {
        let at = |path: &str| format!("{}{path}", self.issuer);
        json!({
            "issuer": self.issuer,
            "authorization_endpoint": at("/oauth/authorize"),
            "token_endpoint": at("/oauth/token"),
            "userinfo_endpoint": at("/oauth/userinfo"),
            "jwks_uri": at("/oauth/jwks"),
            "introspection_endpoint": at("/oauth/introspect"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": keys::ALGORITHMS,
            "authorization_response_iss_parameter_supported": true,
            "scopes_supported": ["openid", "email", "profile", "groups", "roles"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "org_id", "email", "email_verified", "name", "groups", "roles"],
        })
    }
}

/// When an ID token's `exp` passed, for callers that check one (tests, the platform example).
pub fn expiry(claims: &Value) -> Option<DateTime<Utc>> {
    claims["exp"]
        .as_i64()
        .and_then(|t| DateTime::from_timestamp(t, 0))
}
