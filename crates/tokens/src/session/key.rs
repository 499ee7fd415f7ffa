//! The HS256 key that signs admin session cookies and login links. It comes from configuration, or it is
//! generated once from the OS random source and kept in `server_secrets`, so that every process on the
//! database signs and verifies with the same key.

use crate::error::TokenError;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::TryRng;
use rand::rngs::SysRng;
use scimd_store::models::server_secrets;
use scimd_store::{Clock, Store, SystemClock};
use std::fmt;
use zeroize::Zeroizing;

/// The `server_secrets` row holding a generated key.
pub const STORED_KEY_NAME: &str = "admin_session_signing_key_v1";

/// HS256 keys shorter than the hash's output weaken it (RFC 7518 section 3.2).
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct SigningKey {
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// A key given in configuration (its UTF-8 bytes); at least 32 bytes.
    pub fn from_config(value: &str) -> Result<SigningKey, TokenError> {
        if value.len() < MIN_KEY_BYTES {
            return Err(TokenError::InvalidInput(format!(
                "the admin session signing key must be at least {MIN_KEY_BYTES} bytes long"
            )));
        }
        SigningKey::from_bytes(value.as_bytes())
    }

    /// The key stored in the database, generated (256 random bits) and stored by the first process that asks.
    pub fn load_or_create(store: &Store) -> Result<SigningKey, TokenError> {
        let mut candidate = Zeroizing::new([0u8; 32]);
        SysRng
            .try_fill_bytes(candidate.as_mut())
            .map_err(|_| TokenError::Random)?;
        let now = SystemClock.now_naive();
        let stored =
            Zeroizing::new(store.write(|conn| {
                server_secrets::get_or_insert(conn, STORED_KEY_NAME, candidate.as_ref(), now)
            })?);
        if stored.len() < MIN_KEY_BYTES {
            return Err(TokenError::Corrupt(format!(
                "server secret {STORED_KEY_NAME} is too short"
            )));
        }
        SigningKey::from_bytes(&stored)
    }

    /// The configured key when there is one, else the stored one.
    pub fn resolve(configured: Option<&str>, store: &Store) -> Result<SigningKey, TokenError> {
        match configured {
            Some(value) => SigningKey::from_config(value),
            None => SigningKey::load_or_create(store),
        }
    }

    fn from_bytes(bytes: &[u8]) -> Result<SigningKey, TokenError> {
        let invalid = |_| TokenError::InvalidInput("the admin session signing key is not usable".into());
        Ok(SigningKey {
            encoding: EncodingKey::from_secret(bytes).map_err(invalid)?,
            decoding: DecodingKey::from_secret(bytes).map_err(invalid)?,
        })
    }
}
