//! The fake Entra ID: ID tokens signed with the test's RSA keys (jsonwebtoken, RS256, a `kid`), a JWKS built
//! from the public keys, an in-memory JWKS fetcher that counts its calls, and (`FakeEntra`) an actix-web
//! server on 127.0.0.1:0 that serves the token and JWKS endpoints and checks PKCE, client and redirect URI.

use super::keys::TestKey;
use crate::oidc::{DEFAULT_AUTHORITY, EntraConfig, JwksFetcher, OidcError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};

/// One Entra tenant and one instant for both fake IdPs.
pub use super::saml_idp::{TENANT, now};

pub const CLIENT_ID: &str = "0e3c2a1b-9f8d-4c7b-a6e5-d4c3b2a1f0e9";
pub const REDIRECT_URI: &str = "https://scimd.example.com/sso/oidc/acme/callback";
/// The user: the one the fake SAML IdP asserts.
pub const OID: &str = super::saml_idp::OBJECT_ID;
pub const NONCE: &str = "n-0S6_WzA2Mj";

pub fn config() -> EntraConfig {
    EntraConfig::new(DEFAULT_AUTHORITY, TENANT, CLIENT_ID, REDIRECT_URI).unwrap()
}

pub fn issuer() -> String {
    format!("{DEFAULT_AUTHORITY}/{TENANT}/v2.0")
}

pub fn jwk(key: &TestKey, kid: &str) -> Value {
    let public = key.private.to_public_key();
    json!({
        "kty": "RSA", "use": "sig", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(public.n_bytes()),
        "e": URL_SAFE_NO_PAD.encode(public.e_bytes()),
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
    })
}

pub fn jwks_json(keys: &[(&TestKey, &str)]) -> String {
    json!({ "keys": keys.iter().map(|(k, kid)| jwk(k, kid)).collect::<Vec<_>>() }).to_string()
}

/// The claims of a correct v2.0 ID token for `nonce`, issued at `now()`.
pub fn claims(nonce: &str) -> Value {
    let t = now().timestamp();
    json!({
        "iss": issuer(), "aud": CLIENT_ID, "sub": "pairwise-sub-1", "exp": t + 3600, "iat": t, "nbf": t,
        "tid": TENANT, "oid": OID, "nonce": nonce, "ver": "2.0",
        "email": "ada@acme.example", "preferred_username": "ada@acme.example", "name": "Ada Lovelace",
    })
}

pub fn sign(claims: &Value, key: &TestKey, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let der = key.private.to_pkcs1_der().unwrap();
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap()
}

/// A token with a hand-written header (for `alg: none` and friends) and no valid signature.
pub fn with_header(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Serves a JWKS from memory; `None` answers as if the endpoint were down.
pub struct MemoryJwks {
    pub body: RefCell<Option<String>>,
    pub calls: Cell<usize>,
}

impl MemoryJwks {
    pub fn serving(body: String) -> Self {
        Self {
            body: RefCell::new(Some(body)),
            calls: Cell::new(0),
        }
    }
}

impl JwksFetcher for MemoryJwks {
    async fn fetch_jwks(&self, _jwks_uri: &str) -> Result<String, OidcError> {
        self.calls.set(self.calls.get() + 1);
        self.body
            .borrow()
            .clone()
            .ok_or_else(|| OidcError::JwksUnavailable("down".into()))
    }
}
