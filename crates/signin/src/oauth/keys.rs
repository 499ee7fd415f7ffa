//! The ID token signing keys: Ed25519, generated on first use, sealed under the server's secret key
//! (`scimd_tokens::cipher`), published as a JWKS, rotated by `scimd oauth-key rotate` (the previous key stays
//! published until the next rotation).

use super::{OAuthProvider, ProviderError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use scimd_store::models::oauth::{self, SigningKeyRow};
use scimd_store::{DbConnection, OrgId};
use scimd_tokens::cipher::SecretCipher;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The key's seal is bound to this pseudo-org and purpose (the cipher's associated data).
const KEY_SEAL_ORG: &str = "oauth-provider";
/// RFC 8410's PKCS#8 wrapping of an Ed25519 seed: this prefix, then the 32 bytes.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl OAuthProvider {
    /// The published keys (`/oauth/jwks`); creates the first key on first use. A read: the write happens
    /// only while no key exists yet (review I-1: a public GET must not queue behind SQLite's one writer).
    pub fn jwks_blocking(&self) -> Result<Value, ProviderError> {
        let now = self.clock.now_naive();
        let published = self.store.read(oauth::live_signing_keys)?;
        let keys = if !published.is_empty() {
            published
        } else {
            self.store.write(|conn| {
                if oauth::live_signing_keys(conn)?.is_empty() {
                    self.insert_key(conn, now)?;
                }
                Ok::<_, ProviderError>(oauth::live_signing_keys(conn)?)
            })?
        };
        Ok(json!({
            "keys": keys.iter().map(|k| json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
                "kid": k.kid, "x": URL_SAFE_NO_PAD.encode(&k.public_key),
            })).collect::<Vec<_>>()
        }))
    }

    /// A new signing key that signs from now on; the previous one stays published (tokens it signed still
    /// verify), any older one is retired. Returns the new key id.
    pub fn rotate_key_blocking(&self) -> Result<String, ProviderError> {
        let now = self.clock.now_naive();
        self.store.write(|conn| {
            let kid = self.insert_key(conn, now)?;
            for old in oauth::live_signing_keys(conn)?.iter().skip(2) {
                oauth::retire_signing_key(conn, &old.kid, now)?;
            }
            Ok(kid)
        })
    }

    pub(super) fn insert_key(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> Result<String, ProviderError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        scimd_tokens::random::fill(seed.as_mut()).map_err(|_| ProviderError::Random)?;
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let kid = format!("k{}", URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..9]));
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
        let sealed = cipher.encrypt(
            &OrgId::new(KEY_SEAL_ORG),
            &format!("oauth_signing_key:{kid}"),
            seed.as_ref(),
        )?;
        oauth::insert_signing_key(
            conn,
            &SigningKeyRow {
                kid: kid.clone(),
                private_sealed: sealed,
                public_key: public.to_vec(),
                created_at: now,
                retired_at: None,
            },
        )?;
        tracing::info!(kid = %kid, "OpenID Provider signing key created");
        Ok(kid)
    }

    /// The newest key, unsealed (created on first use).
    pub(super) fn signing_key(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> Result<Signer, ProviderError> {
        if oauth::live_signing_keys(conn)?.is_empty() {
            self.insert_key(conn, now)?;
        }
        let newest = oauth::live_signing_keys(conn)?
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Key("no signing key".into()))?;
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
        let seed = cipher.decrypt(
            &OrgId::new(KEY_SEAL_ORG),
            &format!("oauth_signing_key:{}", newest.kid),
            &newest.private_sealed,
        )?;
        if seed.len() != 32 {
            return Err(ProviderError::Key("a sealed key of the wrong length".into()));
        }
        let mut der = zeroize::Zeroizing::new(ED25519_PKCS8_PREFIX.to_vec());
        der.extend_from_slice(&seed);
        Ok(Signer {
            kid: newest.kid,
            encoding: jsonwebtoken::EncodingKey::from_ed_der(&der),
        })
    }
}

pub(super) struct Signer {
    pub(super) kid: String,
    pub(super) encoding: jsonwebtoken::EncodingKey,
}
