//! Encryption at rest of the secrets scimd must read back: the Azure AD client secret, the webhook signing
//! secrets (an HMAC key cannot be kept as a hash) and the OpenID Provider's private signing keys.
//!
//! XChaCha20-Poly1305 under a 256-bit key: the one configured (`crate::keys`, `SCIMD_SECRET_KEY[_FILE]`),
//! else one generated once from the OS random source and kept in `server_secrets` (so every process on the
//! database shares it). Each value gets a fresh random 192-bit nonce (large enough that random nonces never
//! collide in practice), and the associated data binds the ciphertext to its org and purpose, so a ciphertext
//! copied to another org's row does not decrypt.
//!
//! Every value names the key that sealed it (its [`KeyId`]), so that a new key can take over without downtime:
//! the processes seal under the current key and open with any key they were given
//! (`SCIMD_SECRET_KEY_PREVIOUS`), and `scimd keys rotate` re-seals what the old key sealed (docs/OPERATIONS.md,
//! "Rotating the secret key"). With a key configured, the key still stored in the database (from before the
//! key was configured) opens what it sealed until `keys rotate` re-seals it and deletes it.
//!
//! Stored layout: `2 (1 byte) || key id (8 bytes) || nonce (24 bytes) || ciphertext and tag`; values of
//! layout 1 (`1 || nonce || ciphertext and tag`, before key ids) are opened by trying each key.

use crate::error::TokenError;
use crate::keys::SecretKey;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use scimd_store::models::sealed::{self, SealedColumn, SealedValue};
use scimd_store::models::server_secrets;
use scimd_store::{DbConnection, OrgId, Store};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

/// The `server_secrets` row holding the key.
pub(crate) const KEY_NAME: &str = "sso_secret_key_v1";
const LEGACY_VERSION: u8 = 1;
const VERSION: u8 = 2;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;

/// Names a key without revealing it: the first 8 bytes of a domain-separated SHA-256 of the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    fn of(key: &[u8; 32]) -> KeyId {
        let digest = Sha256::new_with_prefix(b"scimd secret key id\0")
            .chain_update(key)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

struct Sealer {
    id: KeyId,
    aead: XChaCha20Poly1305,
}

impl Sealer {
    fn new(key: &[u8; 32]) -> Sealer {
        Sealer {
            id: KeyId::of(key),
            aead: XChaCha20Poly1305::new(key.into()),
        }
    }
}

/// The current key, which seals, and the keys that still open what they sealed.
pub struct SecretCipher {
    current: Sealer,
    previous: Vec<Sealer>,
}

/// What [`SecretCipher::reseal`] did with one value.
#[derive(Debug)]
pub enum Resealed {
    /// The value was already sealed under the current key.
    Current,
    /// The value, sealed anew under the current key.
    Resealed(Vec<u8>),
}

impl SecretCipher {
    /// The configured keys (`Keys::sso_secret`) when there are any, with the key stored in the database (if one
    /// is left from before) among the keys that open; else the stored key, generated on first use.
    pub fn load(
        configured: Option<&SecretKey>,
        conn: &mut DbConnection,
        now: chrono::NaiveDateTime,
    ) -> Result<Self, TokenError> {
        match configured {
            Some(key) => {
                let mut previous: Vec<Sealer> = key.previous().map(Sealer::new).collect();
                if let Some(stored) = server_secrets::get(conn, KEY_NAME)? {
                    previous.push(Sealer::new(&*stored_key(&stored)?));
                }
                Ok(SecretCipher {
                    current: Sealer::new(key.current()),
                    previous,
                })
            }
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
        Ok(SecretCipher {
            current: Sealer::new(&*stored_key(&key)?),
            previous: Vec::new(),
        })
    }

    /// The id of the key that seals.
    pub fn current_key_id(&self) -> KeyId {
        self.current.id
    }

    pub fn encrypt(&self, org: &OrgId, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, TokenError> {
        let nonce = crate::random::bytes::<NONCE_LEN>()?;
        let aad = associated_data(org, purpose);
        let sealed = self
            .current
            .aead
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| TokenError::Corrupt("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&self.current.id.0);
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
        let corrupt = || TokenError::Corrupt("an encrypted secret cannot be decrypted".into());
        let aad = associated_data(org, purpose);
        let open = |sealer: &Sealer, rest: &[u8]| -> Option<Zeroizing<Vec<u8>>> {
            let (nonce, sealed) = rest.split_at_checked(NONCE_LEN)?;
            let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
            sealer
                .aead
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .ok()
                .map(Zeroizing::new)
        };
        match stored.split_first() {
            Some((&VERSION, rest)) => {
                let (id, rest) = rest.split_at_checked(KEY_ID_LEN).ok_or_else(corrupt)?;
                let sealer = self.sealers().find(|s| s.id.0 == id).ok_or_else(|| {
                    let mut named = [0u8; KEY_ID_LEN];
                    named.copy_from_slice(id);
                    TokenError::Corrupt(format!(
                        "a secret is sealed under key {}, which this process was not given \
                         (SCIMD_SECRET_KEY or SCIMD_SECRET_KEY_PREVIOUS)",
                        KeyId(named)
                    ))
                })?;
                open(sealer, rest).ok_or_else(corrupt)
            }
            Some((&LEGACY_VERSION, rest)) => self.sealers().find_map(|s| open(s, rest)).ok_or_else(corrupt),
            _ => Err(corrupt()),
        }
    }

    /// `stored` sealed under the current key: unchanged when it already is, else opened (with any key this
    /// cipher has) and sealed anew.
    pub fn reseal(&self, org: &OrgId, purpose: &str, stored: &[u8]) -> Result<Resealed, TokenError> {
        if stored.first() == Some(&VERSION) && stored.get(1..=KEY_ID_LEN) == Some(&self.current.id.0[..]) {
            return Ok(Resealed::Current);
        }
        let plain = self.decrypt(org, purpose, stored)?;
        self.encrypt(org, purpose, &plain).map(Resealed::Resealed)
    }

    fn sealers(&self) -> impl Iterator<Item = &Sealer> {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

/// What [`reseal_column`] did with the values of one column.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResealReport {
    /// Opened and sealed anew under the current key.
    pub resealed: usize,
    /// Already under the current key.
    pub current: usize,
    /// Written meanwhile by a process (so sealed under its current key): left alone.
    pub changed_meanwhile: usize,
}

/// Re-seals every value of `column` under the cipher's current key, a row at a time (each replacement is
/// conditional on the row still holding what was read). `context` gives a value's org and purpose, the
/// associated data it was sealed with, as the crate that owns the column seals it.
pub fn reseal_column(
    store: &Store,
    cipher: &SecretCipher,
    column: SealedColumn,
    context: impl Fn(&SealedValue) -> (OrgId, String),
) -> Result<ResealReport, TokenError> {
    const PAGE: i64 = 100;
    let mut report = ResealReport::default();
    let mut after = String::new();
    loop {
        let page = store.read(|conn| sealed::page(conn, column, &after, PAGE))?;
        for value in &page {
            let (org, purpose) = context(value);
            match cipher.reseal(&org, &purpose, &value.sealed)? {
                Resealed::Current => report.current += 1,
                Resealed::Resealed(new) => {
                    let replaced =
                        store.write(|conn| sealed::replace(conn, column, &value.key, &value.sealed, &new))?;
                    if replaced {
                        report.resealed += 1;
                    } else {
                        report.changed_meanwhile += 1;
                    }
                }
            }
        }
        match page.last() {
            Some(last) if i64::try_from(page.len()).is_ok_and(|n| n == PAGE) => after.clone_from(&last.key),
            _ => return Ok(report),
        }
    }
}

fn stored_key(stored: &[u8]) -> Result<Zeroizing<[u8; 32]>, TokenError> {
    let key: [u8; 32] = stored
        .try_into()
        .map_err(|_| TokenError::Corrupt(format!("server secret {KEY_NAME} has the wrong length")))?;
    Ok(Zeroizing::new(key))
}

/// Deletes the key stored in the database, once a configured key has re-sealed everything it sealed.
pub fn forget_stored_key(conn: &mut DbConnection) -> Result<bool, TokenError> {
    Ok(server_secrets::delete(conn, KEY_NAME)?)
}

fn associated_data(org: &OrgId, purpose: &str) -> Vec<u8> {
    format!("scimd/sso/v1|{purpose}|{org}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> SecretCipher {
        with_keys(&[7u8; 32], &[])
    }

    fn with_keys(current: &[u8; 32], previous: &[[u8; 32]]) -> SecretCipher {
        SecretCipher {
            current: Sealer::new(current),
            previous: previous.iter().map(Sealer::new).collect(),
        }
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

    #[test]
    fn values_name_their_key_and_reseal_moves_them_to_the_current_one() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let org = OrgId::new("org-a");
        let sealed_old = with_keys(&old, &[]).encrypt(&org, "p", b"secret").unwrap();
        assert_eq!(sealed_old[0], VERSION);
        assert_eq!(&sealed_old[1..=KEY_ID_LEN], &KeyId::of(&old).0);
        // A process given the new key only cannot open it, and says which key it lacks.
        let err = with_keys(&new, &[]).decrypt(&org, "p", &sealed_old).unwrap_err();
        assert!(err.to_string().contains(&KeyId::of(&old).to_string()), "{err}");
        // During the rotation both keys open; reseal moves the value to the new key, once.
        let ring = with_keys(&new, &[old]);
        assert_eq!(
            ring.decrypt(&org, "p", &sealed_old).unwrap().as_slice(),
            b"secret"
        );
        let Resealed::Resealed(moved) = ring.reseal(&org, "p", &sealed_old).unwrap() else {
            panic!("not resealed")
        };
        assert!(matches!(
            ring.reseal(&org, "p", &moved).unwrap(),
            Resealed::Current
        ));
        // After it, the new key alone opens it and the old one no longer does.
        assert_eq!(
            with_keys(&new, &[])
                .decrypt(&org, "p", &moved)
                .unwrap()
                .as_slice(),
            b"secret"
        );
        assert!(with_keys(&old, &[]).decrypt(&org, "p", &moved).is_err());
    }

    #[test]
    fn values_sealed_before_key_ids_still_open_and_reseal() {
        let key = [3u8; 32];
        let org = OrgId::new("org-a");
        // Layout 1: version, nonce, ciphertext (as stored before key ids).
        let nonce = [9u8; NONCE_LEN];
        let aad = associated_data(&org, "p");
        let sealed = XChaCha20Poly1305::new((&key).into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: b"legacy",
                    aad: &aad,
                },
            )
            .unwrap();
        let legacy = [&[LEGACY_VERSION][..], &nonce, &sealed].concat();
        let ring = with_keys(&[4u8; 32], &[key]);
        assert_eq!(ring.decrypt(&org, "p", &legacy).unwrap().as_slice(), b"legacy");
        assert!(matches!(
            ring.reseal(&org, "p", &legacy).unwrap(),
            Resealed::Resealed(_)
        ));
        assert!(with_keys(&[4u8; 32], &[]).decrypt(&org, "p", &legacy).is_err());
    }
}
