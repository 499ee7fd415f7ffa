//! ID token validation (O5, O6). The header is read first and only `RS256` with a `kid` goes on (so `none`,
//! HS256 keyed with the public key, and anything else are refused before a key is chosen); jsonwebtoken then
//! checks the signature with the key of that `kid` and only that algorithm. The claims are typed (a string
//! `exp` does not parse), and every claim check is done here against the caller's `now`, not the system
//! clock: `iss` exact, `aud` exactly this client, `tid`, `ver` 2.0, `nonce`, `exp`/`nbf`/`iat` with leeway.

use super::jwks::{Jwks, JwksCache, JwksFetcher};
use super::{EntraConfig, Nonce, OidcError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use std::collections::HashSet;

/// ID tokens are a few KiB; larger input is refused unread.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The verified claims scimd uses. Key members by `(tenant_id, object_id)`; the rest is for display.
#[derive(Clone, PartialEq, Eq)]
pub struct IdTokenClaims {
    pub tenant_id: String,
    pub object_id: String,
    /// The pairwise `sub` (stable for this app only).
    pub subject: String,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("tenant_id", &self.tenant_id)
            .field("object_id", &"<redacted>")
            .field("subject", &"<redacted>")
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field(
                "preferred_username",
                &self.preferred_username.as_ref().map(|_| "<redacted>"),
            )
            .field("name", &self.name.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    aud: serde_json::Value,
    sub: String,
    exp: i64,
    iat: i64,
    nbf: Option<i64>,
    tid: Option<String>,
    oid: Option<String>,
    nonce: Option<String>,
    ver: Option<String>,
    email: Option<String>,
    preferred_username: Option<String>,
    name: Option<String>,
}

/// The `kid` of an RS256 token; every other header is refused here.
pub(crate) fn rs256_kid(token: &str) -> Result<String, OidcError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(OidcError::MalformedToken("too long"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(OidcError::MalformedToken("not three segments"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| OidcError::MalformedToken("header is not base64url"))?;
    let header: Header =
        serde_json::from_slice(&bytes).map_err(|_| OidcError::MalformedToken("header is not JSON"))?;
    if header.alg != "RS256" {
        return Err(OidcError::AlgorithmNotAllowed {
            alg: super::error::sanitize(&header.alg),
        });
    }
    if header.crit.is_some() {
        return Err(OidcError::MalformedToken("critical header extensions"));
    }
    header.kid.filter(|k| !k.is_empty()).ok_or(OidcError::MissingKid)
}

impl EntraConfig {
    /// Validate `id_token` with `jwks` for this connection and the pending sign-in's `nonce`, at `now`.
    pub fn validate_id_token(
        &self,
        id_token: &str,
        jwks: &Jwks,
        nonce: &Nonce,
        now: DateTime<Utc>,
    ) -> Result<IdTokenClaims, OidcError> {
        let kid = rs256_kid(id_token)?;
        let key = jwks.find(&kid).ok_or(OidcError::UnknownKid)?;
        let issuer = self.issuer();
        if let Some(key_issuer) = &key.issuer
            && key_issuer.replace("{tenantid}", self.tenant_id()) != issuer
        {
            // A key published for another issuer must not vouch for this tenant's tokens.
            return Err(OidcError::WrongIssuer);
        }
        let mut validation = Validation::new(Algorithm::RS256);
        // The claims are checked below against `now`; jsonwebtoken only checks the signature and algorithm.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let data =
            jsonwebtoken::decode::<Claims>(id_token, &key.decoding, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::InvalidSignature => OidcError::SignatureInvalid,
                    ErrorKind::InvalidAlgorithm => OidcError::AlgorithmNotAllowed { alg: "?".into() },
                    _ => OidcError::MalformedToken("claims do not parse"),
                }
            })?;
        self.check_claims(data.claims, nonce, now)
    }

    /// [`Self::validate_id_token`] with the key looked up in `cache` (refetched once on an unknown `kid`).
    pub async fn verify_id_token<F: JwksFetcher>(
        &self,
        id_token: &str,
        cache: &mut JwksCache,
        fetcher: &F,
        nonce: &Nonce,
        now: DateTime<Utc>,
    ) -> Result<IdTokenClaims, OidcError> {
        let kid = rs256_kid(id_token)?;
        let jwks = cache.keys_for(fetcher, &kid, now).await?;
        self.validate_id_token(id_token, jwks, nonce, now)
    }

    fn check_claims(&self, c: Claims, nonce: &Nonce, now: DateTime<Utc>) -> Result<IdTokenClaims, OidcError> {
        if c.iss != self.issuer() {
            return Err(OidcError::WrongIssuer);
        }
        let aud_ok = match &c.aud {
            serde_json::Value::String(a) => a == self.client_id(),
            serde_json::Value::Array(list) => {
                matches!(list.as_slice(), [serde_json::Value::String(a)] if a == self.client_id())
            }
            _ => false,
        };
        if !aud_ok {
            return Err(OidcError::WrongAudience);
        }
        if c.tid.as_deref().map(str::to_ascii_lowercase).as_deref() != Some(self.tenant_id()) {
            return Err(OidcError::WrongTenant);
        }
        if c.ver.as_deref() != Some("2.0") {
            return Err(OidcError::WrongVersion);
        }
        if !c.nonce.as_deref().is_some_and(|n| nonce.matches(n)) {
            return Err(OidcError::NonceMismatch);
        }
        let leeway = self.leeway().num_seconds();
        let now_s = now.timestamp();
        if now_s - leeway >= c.exp {
            return Err(OidcError::Expired);
        }
        if c.nbf.is_some_and(|nbf| nbf > now_s + leeway) {
            return Err(OidcError::NotYetValid);
        }
        if c.iat > now_s + leeway {
            return Err(OidcError::IssuedInFuture);
        }
        let object_id = c
            .oid
            .filter(|o| !o.is_empty())
            .ok_or(OidcError::MissingObjectId)?;
        let expires_at =
            DateTime::from_timestamp(c.exp, 0).ok_or(OidcError::MalformedToken("exp out of range"))?;
        Ok(IdTokenClaims {
            tenant_id: self.tenant_id().to_owned(),
            object_id,
            subject: c.sub,
            email: c.email,
            preferred_username: c.preferred_username,
            name: c.name,
            expires_at,
        })
    }
}
