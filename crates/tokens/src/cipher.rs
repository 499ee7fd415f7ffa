//! Encryption at rest of the secrets scimd must read back: the Azure AD client secret, and the webhook
//! signing secrets (an HMAC key cannot be kept as a hash).
//!
//! XChaCha20-Poly1305 under a 256-bit key: the one configured (`crate::keys`, `SCIMD_SECRET_KEY[_FILE]`),
//! else one generated once from the OS random source and kept in `server_secrets` (so every process on the
//! database shares it). Each value gets a fresh random 192-bit
//! nonce (large enough that random nonces never collide in practice), and the associated data binds the
//! ciphertext to its org and purpose, so a ciphertext copied to another org's row does not decrypt.
//!
//! Stored layout: `version (1 byte) || nonce (24 bytes) || ciphertext and tag`.

use crate::error::TokenError;
use crate::keys::SecretKey;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use scimd_store::models::server_secrets;
use scimd_store::{DbConnection, OrgId};
use zeroize::Zeroizing;

/// The `server_secrets` row holding the key.
pub(crate) const KEY_NAME: &str = "sso_secret_key_v1";
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

pub struct SecretCipher(XChaCha20Poly1305);

impl SecretCipher {
    /// The configured key (`Keys::sso_secret`) when there is one (the database is not touched), else the stored one.
    pub fn load(
        configured: Option<&SecretKey>,
        conn: &mut DbConnection,
        now: chrono::NaiveDateTime,
    ) -> Result<Self, TokenError> {
        match configured {
            Some(key) => XChaCha20Poly1305::new_from_slice(key.0.as_ref())
                .map(SecretCipher)
                .map_err(|_| TokenError::InvalidInput("the SSO secret key has the wrong length".into())),
            None => SecretCipher::load_or_create(conn, now),
        }
    }

    /// Loads the key, generating and storing it on first use (the first process to store it wins).
    fn load_or_create(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<Self, TokenError> {
        let mut candidate = Zeroizing::new([0u8; 32]);
        crate::random::fill(candidate.as_mut())?;
        let key = Zeroizing::new(server_secrets::get_or_insert(
            conn,
            KEY_NAME,
            candidate.as_ref(),
            now,
        )?);
        XChaCha20Poly1305::new_from_slice(&key)
            .map(SecretCipher)
            .map_err(|_| TokenError::Corrupt(format!("server secret {KEY_NAME} has the wrong length")))
    }

    pub fn encrypt(&self, org: &OrgId, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, TokenError> {
        let nonce = crate::random::bytes::<NONCE_LEN>()?;
        let aad = associated_data(org, purpose);
        let sealed = self
            .0
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| TokenError::Corrupt("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(
        &self,
        org: &OrgId,
        purpose: &str,
        stored: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        let corrupt = || TokenError::Corrupt("an encrypted SSO secret cannot be decrypted".into());
        let (&version, rest) = stored.split_first().ok_or_else(corrupt)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupt())?;
        let aad = associated_data(org, purpose);
        self.0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| corrupt())
    }
}

fn associated_data(org: &OrgId, purpose: &str) -> Vec<u8> {
    format!("scimd/sso/v1|{purpose}|{org}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> SecretCipher {
        SecretCipher(XChaCha20Poly1305::new_from_slice(&[7u8; 32]).unwrap())
    }

    #[test]
    fn round_trips_and_is_bound_to_its_org_and_purpose() {
        let c = cipher();
        let org = OrgId::new("org-a");
        let sealed = c.encrypt(&org, "azure_client_secret", b"s3cret value").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(
            c.decrypt(&org, "azure_client_secret", &sealed)
                .unwrap()
                .as_slice(),
            b"s3cret value"
        );
        assert!(
            c.decrypt(&OrgId::new("org-b"), "azure_client_secret", &sealed)
                .is_err()
        );
        assert!(c.decrypt(&org, "other", &sealed).is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(c.decrypt(&org, "azure_client_secret", &tampered).is_err());
        // A fresh nonce each time: the same secret never encrypts to the same bytes.
        assert_ne!(
            sealed,
            c.encrypt(&org, "azure_client_secret", b"s3cret value").unwrap()
        );
    }
}
