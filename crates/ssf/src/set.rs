//! Security Event Tokens (RFC 8417, SSF §4, CAEP interoperability §2.6 and §2.8.1): JWS RS256 with
//! `typ: secevent+jwt` and the signing key's `kid`; claims `iss` (the transmitter's issuer, as in
//! `/.well-known/ssf-configuration`), `aud` (the stream's), `iat`, a unique `jti`, `txn` (the feed event's id:
//! every SET made from one change shares it), `sub_id`, and `events` with exactly one event; never `sub` or
//! `exp`.
//!
//! The key is the OpenID Provider's RS256 key (`scimd_signin::oauth::keys`: RSA-2048, sealed under the
//! server's secret key, published at `/oauth/jwks`, rotated by `scimd oauth-key rotate`), so SET keys are
//! rotated and retired exactly like the ID token keys. A SET cannot pass for an ID token nor the reverse: its
//! `typ` differs, and it has none of `sub`, `exp` or `nonce`, which an ID token's relying party requires.

use crate::error::SsfError;
use crate::events::SubjectKind;
use chrono::NaiveDateTime;
use scimd_signin::oauth::keys::{ALG_RS256, seal_context};
use scimd_store::DbConnection;
use scimd_store::models::oauth;
use scimd_store::models::sealed::SealedValue;
use scimd_tokens::SecretKey;
use scimd_tokens::cipher::SecretCipher;
use serde_json::{Value, json};

/// The media type of a SET (RFC 8417 §2.3), the JOSE `typ` without its `application/` prefix.
pub const TYP: &str = "secevent+jwt";
pub const MEDIA_TYPE: &str = "application/secevent+jwt";

/// The newest RS256 key, unsealed, ready to sign.
pub struct Signer {
    kid: String,
    key: jsonwebtoken::EncodingKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The newest live RS256 key (the OpenID Provider creates it first: `OAuthProvider::jwks_blocking`).
    pub fn load(
        conn: &mut DbConnection,
        secret_key: Option<&SecretKey>,
        now: NaiveDateTime,
    ) -> Result<Signer, SsfError> {
        let row = oauth::live_signing_keys(conn)?
            .into_iter()
            .find(|k| k.alg == ALG_RS256)
            .ok_or_else(|| SsfError::Key("no RS256 signing key".into()))?;
        let cipher = SecretCipher::load(secret_key, conn, now)?;
        let (org, purpose) = seal_context(&SealedValue {
            key: row.kid.clone(),
            org_id: None,
            sealed: Vec::new(),
        });
        let private = cipher.decrypt(&org, &purpose, &row.private_sealed)?;
        Ok(Signer {
            kid: row.kid,
            key: jsonwebtoken::EncodingKey::from_rsa_der(&private),
        })
    }

    pub fn sign(&self, claims: &Value) -> Result<String, SsfError> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = Some(TYP.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| SsfError::Key(e.to_string()))
    }
}

/// A new `jti`: 128 random bits (UUID v4), unique per SET.
pub fn jti() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Who a SET is about.
#[derive(Debug, Clone)]
pub enum Subject<'a> {
    /// A member, or for `SubjectKind::ScimGroup` a group (`member` is then the group's id).
    Member {
        org: &'a str,
        member: &'a str,
        external_id: Option<&'a str>,
    },
    /// The stream itself (verification, SSF §8.1.4.1).
    Stream(&'a str),
}

/// The `sub_id` (SSF §3) of `subject` in the form `kind` asks for.
pub fn sub_id(issuer: &str, subject: &Subject<'_>, kind: SubjectKind) -> Value {
    match subject {
        Subject::Stream(id) => json!({ "format": "opaque", "id": id }),
        Subject::Member {
            org,
            member,
            external_id,
        } => match kind {
            SubjectKind::Account => json!({
                "format": "complex",
                "user": { "format": "iss_sub", "iss": issuer, "sub": member },
                "tenant": { "format": "opaque", "id": org },
            }),
            SubjectKind::Scim | SubjectKind::ScimGroup => {
                let kind = if matches!(kind, SubjectKind::ScimGroup) {
                    "Groups"
                } else {
                    "Users"
                };
                let mut id = json!({ "format": "scim", "uri": format!("/{kind}/{member}") });
                if let Some(ext) = external_id {
                    id["externalId"] = json!(ext);
                }
                id
            }
        },
    }
}

/// The claims of one SET.
pub struct Claims<'a> {
    pub issuer: &'a str,
    pub audience: &'a Value,
    pub iat: i64,
    pub jti: &'a str,
    pub txn: Option<&'a str>,
    pub sub_id: Value,
    pub event_type: &'a str,
    pub payload: Value,
}

impl Claims<'_> {
    pub fn to_json(&self) -> Value {
        let mut claims = json!({
            "iss": self.issuer,
            "aud": self.audience,
            "iat": self.iat,
            "jti": self.jti,
            "sub_id": self.sub_id,
            "events": { self.event_type: self.payload },
        });
        if let Some(txn) = self.txn {
            claims["txn"] = json!(txn);
        }
        claims
    }
}
