//! The JWTs: HS256 only, issuer `scimd`, an audience per use (a login link is not a session cookie, and the
//! other way round), and expiry checked against the injected clock with no leeway.

use crate::error::TokenError;
use crate::keys::SigningKey;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "scimd";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    LoginLink,
    Session,
}

impl Audience {
    fn as_str(self) -> &'static str {
        match self {
            Audience::LoginLink => "scimd-admin-login-link",
            Audience::Session => "scimd-admin-session",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub iss: String,
    pub aud: String,
    /// The member.
    pub sub: String,
    pub org: String,
    /// The row this JWT names: a login link's or a session's id.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

pub(crate) fn sign(
    key: &SigningKey,
    audience: Audience,
    org: &str,
    member: &str,
    row_id: &str,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<String, TokenError> {
    let claims = Claims {
        iss: ISSUER.to_owned(),
        aud: audience.as_str().to_owned(),
        sub: member.to_owned(),
        org: org.to_owned(),
        jti: row_id.to_owned(),
        iat: issued_at.timestamp(),
        exp: expires_at.timestamp(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key.encoding)
        .map_err(|e| TokenError::InvalidInput(format!("cannot sign a JWT: {e}")))
}

/// The claims of a JWT that is signed by `key`, meant for `audience` and unexpired at `now`; `None` otherwise.
pub(crate) fn verify(
    key: &SigningKey,
    audience: Audience,
    token: &str,
    now: DateTime<Utc>,
) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    // jsonwebtoken checks expiry against the system clock; scimd checks it against its own clock below.
    validation.validate_exp = false;
    validation.leeway = 0;
    validation.set_audience(&[audience.as_str()]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
        .ok()?
        .claims;
    (claims.exp > now.timestamp()).then_some(claims)
}
