//! The ID token signing keys: one of each algorithm, RS256 (RSA-2048, the algorithm OpenID Connect
//! Discovery requires every provider to offer) and EdDSA (Ed25519); generated on first use, sealed under
//! the server's secret key (`scimd_tokens::cipher`), published as a JWKS, rotated by `scimd oauth-key rotate`
//! (the previous keys stay published until the next rotation, or leave at once with `--retire-previous`).
//! The newest key of an algorithm signs; a client's registered `id_token_signed_response_alg` picks which.
//!
//! Reading the JWKS is a read: keys are written only when one is missing (review 3, I-1), and the RSA key is
//! generated outside any transaction.

use super::{OAuthProvider, ProviderError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use rsa::pkcs1::{DecodeRsaPublicKey as _, EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::traits::PublicKeyParts as _;
use scimd_store::models::oauth::{self, SigningKeyRow};
use scimd_store::models::sealed::SealedValue;
use scimd_store::{DbConnection, OrgId};
use scimd_tokens::cipher::SecretCipher;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const ALG_RS256: &str = "RS256";
pub const ALG_EDDSA: &str = "EdDSA";
/// Every algorithm an ID token may be signed with, the default first.
pub const ALGORITHMS: [&str; 2] = [ALG_RS256, ALG_EDDSA];

/// The key's seal is bound to this pseudo-org and purpose (the cipher's associated data).
const KEY_SEAL_ORG: &str = "oauth-provider";
/// The org and purpose a stored private key was sealed with (`scimd keys rotate` re-seals it).
pub fn seal_context(value: &SealedValue) -> (OrgId, String) {
    (
        OrgId::new(KEY_SEAL_ORG),
        format!("oauth_signing_key:{}", value.key),
    )
}

/// RFC 8410's PKCS#8 wrapping of an Ed25519 seed: this prefix, then the 32 bytes.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const RSA_BITS: usize = 2048;

/// A key generated, not yet stored: the private part (Ed25519 seed or RSA PKCS#1 DER) and the public part.
struct NewKey {
    kid: String,
    alg: &'static str,
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

fn generate(alg: &'static str) -> Result<NewKey, ProviderError> {
    let (private, public) = if alg == ALG_RS256 {
        let key = rsa::PrivateKey::new(&mut scimd_tokens::random::os_generator(), RSA_BITS)
            .map_err(|e| ProviderError::Key(e.to_string()))?;
        let private = key
            .to_pkcs1_der()
            .map_err(|e| ProviderError::Key(e.to_string()))?;
        let public = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| ProviderError::Key(e.to_string()))?;
        (
            Zeroizing::new(private.as_bytes().to_vec()),
            public.as_bytes().to_vec(),
        )
    } else {
        let mut seed = Zeroizing::new(vec![0u8; 32]);
        scimd_tokens::random::fill(seed.as_mut()).map_err(|_| ProviderError::Random)?;
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&seed);
        let public = ed25519_dalek::SigningKey::from_bytes(&bytes)
            .verifying_key()
            .to_bytes()
            .to_vec();
        (seed, public)
    };
    let kid = format!("k{}", URL_SAFE_NO_PAD.encode(&Sha256::digest(&public)[..9]));
    Ok(NewKey {
        kid,
        alg,
        private,
        public,
    })
}

/// A key's public JWK.
fn jwk(key: &SigningKeyRow) -> Result<Value, ProviderError> {
    if key.alg == ALG_RS256 {
        let public =
            rsa::PublicKey::from_pkcs1_der(&key.public_key).map_err(|e| ProviderError::Key(e.to_string()))?;
        Ok(json!({
            "kty": "RSA", "use": "sig", "alg": ALG_RS256, "kid": key.kid,
            "n": URL_SAFE_NO_PAD.encode(public.n_bytes()), "e": URL_SAFE_NO_PAD.encode(public.e_bytes()),
        }))
    } else {
        Ok(json!({
            "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": ALG_EDDSA,
            "kid": key.kid, "x": URL_SAFE_NO_PAD.encode(&key.public_key),
        }))
    }
}

impl OAuthProvider {
    /// The published keys (`/oauth/jwks`); creates a missing algorithm's first key.
    pub fn jwks_blocking(&self) -> Result<Value, ProviderError> {
        let keys = self.ensure_keys_blocking()?;
        Ok(json!({ "keys": keys.iter().map(jwk).collect::<Result<Vec<_>, _>>()? }))
    }

    /// The live keys, with one of each algorithm: read, and written only when one is missing (its key
    /// generated before the transaction, inserted only if still missing there).
    pub(super) fn ensure_keys_blocking(&self) -> Result<Vec<SigningKeyRow>, ProviderError> {
        let keys = self.store.read(oauth::live_signing_keys)?;
        let missing: Vec<&'static str> = ALGORITHMS
            .into_iter()
            .filter(|alg| !keys.iter().any(|k| k.alg == *alg))
            .collect();
        if missing.is_empty() {
            return Ok(keys);
        }
        let fresh = missing.into_iter().map(generate).collect::<Result<Vec<_>, _>>()?;
        let now = self.clock.now_naive();
        self.store.write(|conn| {
            let live = oauth::live_signing_keys(conn)?;
            for key in &fresh {
                if !live.iter().any(|k| k.alg == key.alg) {
                    self.insert_key(conn, key, now)?;
                }
            }
            Ok::<_, ProviderError>(oauth::live_signing_keys(conn)?)
        })
    }

    /// New signing keys (one per algorithm) that sign from now on. The previous ones stay published (tokens
    /// they signed still verify) and any older ones are retired; with `retire_previous` (a key is
    /// compromised) every other key leaves the JWKS at once, and the tokens it signed stop verifying. Returns
    /// the new key ids.
    pub fn rotate_key_blocking(&self, retire_previous: bool) -> Result<Vec<String>, ProviderError> {
        let fresh = ALGORITHMS
            .into_iter()
            .map(generate)
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.clock.now_naive();
        self.store.write(|conn| {
            let mut kids = Vec::new();
            for key in &fresh {
                kids.push(self.insert_key(conn, key, now)?);
            }
            if retire_previous {
                oauth::retire_signing_keys_except(conn, &kids, now)?;
            } else {
                for alg in ALGORITHMS {
                    let of_alg = oauth::live_signing_keys(conn)?
                        .into_iter()
                        .filter(|k| k.alg == alg);
                    for old in of_alg.skip(2) {
                        oauth::retire_signing_key(conn, &old.kid, now)?;
                    }
                }
            }
            Ok(kids)
        })
    }

    fn insert_key(
        &self,
        conn: &mut DbConnection,
        key: &NewKey,
        now: NaiveDateTime,
    ) -> Result<String, ProviderError> {
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
        let sealed = cipher.encrypt(
            &OrgId::new(KEY_SEAL_ORG),
            &format!("oauth_signing_key:{}", key.kid),
            key.private.as_ref(),
        )?;
        oauth::insert_signing_key(
            conn,
            &SigningKeyRow {
                kid: key.kid.clone(),
                private_sealed: sealed,
                public_key: key.public.clone(),
                created_at: now,
                retired_at: None,
                alg: key.alg.to_owned(),
            },
        )?;
        tracing::info!(kid = %key.kid, alg = key.alg, "OpenID Provider signing key created");
        Ok(key.kid.clone())
    }

    /// The newest key of `alg`, unsealed (created when missing: callers ensure the keys first, so this
    /// generates inside the transaction only when a rotation raced them).
    pub(super) fn signing_key(
        &self,
        conn: &mut DbConnection,
        alg: &str,
        now: NaiveDateTime,
    ) -> Result<Signer, ProviderError> {
        let newest = match oauth::live_signing_keys(conn)?.into_iter().find(|k| k.alg == alg) {
            Some(key) => key,
            None => {
                let alg = ALGORITHMS
                    .into_iter()
                    .find(|a| *a == alg)
                    .ok_or_else(|| ProviderError::Key(format!("no signing algorithm {alg}")))?;
                self.insert_key(conn, &generate(alg)?, now)?;
                oauth::live_signing_keys(conn)?
                    .into_iter()
                    .find(|k| k.alg == alg)
                    .ok_or_else(|| ProviderError::Key("no signing key".into()))?
            }
        };
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
        let private = cipher.decrypt(
            &OrgId::new(KEY_SEAL_ORG),
            &format!("oauth_signing_key:{}", newest.kid),
            &newest.private_sealed,
        )?;
        let (algorithm, encoding) = if newest.alg == ALG_RS256 {
            (
                jsonwebtoken::Algorithm::RS256,
                jsonwebtoken::EncodingKey::from_rsa_der(&private),
            )
        } else {
            if private.len() != 32 {
                return Err(ProviderError::Key("a sealed key of the wrong length".into()));
            }
            let mut der = Zeroizing::new(ED25519_PKCS8_PREFIX.to_vec());
            der.extend_from_slice(&private);
            (
                jsonwebtoken::Algorithm::EdDSA,
                jsonwebtoken::EncodingKey::from_ed_der(&der),
            )
        };
        Ok(Signer {
            kid: newest.kid,
            algorithm,
            encoding,
        })
    }
}

pub(super) struct Signer {
    pub(super) kid: String,
    pub(super) algorithm: jsonwebtoken::Algorithm,
    pub(super) encoding: jsonwebtoken::EncodingKey,
}
