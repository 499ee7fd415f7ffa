//! Where the two server keys come from: the HS256 key that signs admin sessions and login links, and the
//! XChaCha20-Poly1305 key that encrypts SSO secrets at rest.
//!
//! Each comes from a file or a value the server was given (its flags and environment), or else (the embedded
//! default, for a demo or a single box) is generated once and kept in `server_secrets` beside the data.
//! Production gives both from outside the database (on PostgreSQL `scimd serve` refuses to start otherwise,
//! unless told to: [`KeySettings::missing`]): with the keys in `server_secrets`, a read-only leak of the
//! database (a backup, a replica) is enough to sign sessions and ID tokens and open every sealed secret.
//!
//! | setting | value |
//! |---|---|
//! | `SCIMD_SESSION_SIGNING_KEY` / `SCIMD_SESSION_SIGNING_KEY_FILE` | at least 32 bytes, used as they are (a file's trailing newline is dropped) |
//! | `SCIMD_SECRET_KEY` / `SCIMD_SECRET_KEY_FILE` | exactly 32 bytes, written as 64 hex digits or in base64 (standard alphabet, padding optional) |
//! | `SCIMD_SECRET_KEY_PREVIOUS` / `SCIMD_SECRET_KEY_PREVIOUS_FILE` | during a rotation: keys that still open what they sealed, written as above, separated by commas or white space |
//!
//! Giving both the value and the file of one key is refused. No key reaches a log line or an error message.
//!
//! [`SigningKey`] is the session key itself: the configured one, or one generated once from the OS random
//! source and kept in `server_secrets`, so that every process on the database signs and verifies with it.

use crate::error::TokenError;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use scimd_store::models::server_secrets;
use scimd_store::{Clock, Store, SystemClock};
use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const SESSION_SIGNING_KEY_ENV: &str = "SCIMD_SESSION_SIGNING_KEY";
pub const SESSION_SIGNING_KEY_FILE_ENV: &str = "SCIMD_SESSION_SIGNING_KEY_FILE";
pub const SECRET_KEY_ENV: &str = "SCIMD_SECRET_KEY";
pub const SECRET_KEY_FILE_ENV: &str = "SCIMD_SECRET_KEY_FILE";
pub const SECRET_KEY_PREVIOUS_ENV: &str = "SCIMD_SECRET_KEY_PREVIOUS";
pub const SECRET_KEY_PREVIOUS_FILE_ENV: &str = "SCIMD_SECRET_KEY_PREVIOUS_FILE";

/// The raw settings, as the server read them (its flags and environment, `scimd_server::config::KeyArgs`);
/// `None` is unset. The names above are the settings' names, used in the errors.
#[derive(Default, Clone)]
pub struct KeySettings {
    pub session_signing_key: Option<Zeroizing<String>>,
    pub session_signing_key_file: Option<PathBuf>,
    pub secret_key: Option<Zeroizing<String>>,
    pub secret_key_file: Option<PathBuf>,
    pub secret_key_previous: Option<Zeroizing<String>>,
    pub secret_key_previous_file: Option<PathBuf>,
}

impl fmt::Debug for KeySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySettings")
            .field(
                "session_signing_key",
                &self.session_signing_key.as_ref().map(|_| ".."),
            )
            .field("session_signing_key_file", &self.session_signing_key_file)
            .field("secret_key", &self.secret_key.as_ref().map(|_| ".."))
            .field("secret_key_file", &self.secret_key_file)
            .field(
                "secret_key_previous",
                &self.secret_key_previous.as_ref().map(|_| ".."),
            )
            .field("secret_key_previous_file", &self.secret_key_previous_file)
            .finish()
    }
}

/// The key encrypting secrets at rest, given from outside the database, with the keys of a rotation in
/// progress that still open what they sealed (`crate::cipher`). Never printed, zeroed on drop.
#[derive(Clone)]
pub struct SecretKey {
    current: Zeroizing<[u8; 32]>,
    previous: Vec<Zeroizing<[u8; 32]>>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Compared in constant time (it is a key).
impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.current.as_ref().ct_eq(other.current.as_ref()).into()
            && self.previous.len() == other.previous.len()
            && self
                .previous
                .iter()
                .zip(&other.previous)
                .all(|(a, b)| bool::from(a.as_ref().ct_eq(b.as_ref())))
    }
}

impl Eq for SecretKey {}

impl SecretKey {
    /// 64 hex digits, or base64 of 32 bytes; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<SecretKey, TokenError> {
        let text = text.trim();
        let bytes = Zeroizing::new(
            if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                decode_hex(text)
            } else {
                STANDARD
                    .decode(text)
                    .or_else(|_| STANDARD_NO_PAD.decode(text))
                    .ok()
            },
        );
        let key: Option<[u8; 32]> = bytes.as_deref().and_then(|b| b.try_into().ok());
        key.map(|k| SecretKey {
            current: Zeroizing::new(k),
            previous: Vec::new(),
        })
        .ok_or_else(|| {
            TokenError::InvalidInput(format!(
                "{SECRET_KEY_ENV} must be 32 bytes, written as 64 hex digits or in base64"
            ))
        })
    }

    /// This key, with `previous` (keys separated by commas or white space) still opening what they sealed.
    pub fn with_previous(mut self, previous: &str) -> Result<SecretKey, TokenError> {
        for text in previous
            .split([',', ' ', '\t', '\r', '\n'])
            .filter(|t| !t.is_empty())
        {
            let key = SecretKey::parse(text).map_err(|_| {
                TokenError::InvalidInput(format!(
                    "{SECRET_KEY_PREVIOUS_ENV} must hold keys of 32 bytes, each written as 64 hex digits or in base64"
                ))
            })?;
            self.previous.push(key.current);
        }
        Ok(self)
    }

    pub(crate) fn current(&self) -> &[u8; 32] {
        &self.current
    }

    pub(crate) fn previous(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.previous.iter().map(|k| &**k)
    }
}

/// The keys a process uses. `sso_secret: None` means the stored key (`server_secrets`).
#[derive(Debug, Clone)]
pub struct Keys {
    pub session: SigningKey,
    /// Whether the session key was given (else it is the one kept in the database).
    pub session_configured: bool,
    pub sso_secret: Option<SecretKey>,
}

impl KeySettings {
    /// The configured keys, else the stored ones (the session key generated and stored by the first process
    /// that asks). `TokenError::InvalidInput` names the setting at fault, never its value.
    pub fn resolve(&self, store: &Store) -> Result<Keys, TokenError> {
        let session_value = one_of(
            self.session_signing_key.as_ref(),
            self.session_signing_key_file.as_deref(),
            SESSION_SIGNING_KEY_ENV,
            SESSION_SIGNING_KEY_FILE_ENV,
        )?;
        let session_configured = session_value.is_some();
        let session = match session_value {
            Some(value) => signing_key(&value)?,
            None => SigningKey::load_or_create(store)?,
        };
        let sso_secret = one_of(
            self.secret_key.as_ref(),
            self.secret_key_file.as_deref(),
            SECRET_KEY_ENV,
            SECRET_KEY_FILE_ENV,
        )?
        .map(|value| SecretKey::parse(&value))
        .transpose()?;
        let previous = one_of(
            self.secret_key_previous.as_ref(),
            self.secret_key_previous_file.as_deref(),
            SECRET_KEY_PREVIOUS_ENV,
            SECRET_KEY_PREVIOUS_FILE_ENV,
        )?;
        let sso_secret = match (sso_secret, previous) {
            (Some(key), Some(previous)) => Some(key.with_previous(&previous)?),
            (None, Some(_)) => {
                return Err(TokenError::InvalidInput(format!(
                    "{SECRET_KEY_PREVIOUS_ENV} is set without {SECRET_KEY_ENV}: give the new key as {SECRET_KEY_ENV}"
                )));
            }
            (key, None) => key,
        };
        Ok(Keys {
            session,
            session_configured,
            sso_secret,
        })
    }

    /// The settings of the two keys that are not given from outside the database (their names, for an
    /// operator's message); empty when both are.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.session_signing_key.is_none() && self.session_signing_key_file.is_none() {
            missing.push(SESSION_SIGNING_KEY_ENV);
        }
        if self.secret_key.is_none() && self.secret_key_file.is_none() {
            missing.push(SECRET_KEY_ENV);
        }
        missing
    }
}

fn signing_key(value: &str) -> Result<SigningKey, TokenError> {
    if value.len() < MIN_KEY_BYTES {
        return Err(TokenError::InvalidInput(format!(
            "{SESSION_SIGNING_KEY_ENV} must be at least {MIN_KEY_BYTES} bytes long"
        )));
    }
    SigningKey::from_config(value)
}

/// The value given directly or in a file; both at once is a mistake worth refusing.
fn one_of(
    value: Option<&Zeroizing<String>>,
    file: Option<&Path>,
    value_name: &str,
    file_name: &str,
) -> Result<Option<Zeroizing<String>>, TokenError> {
    match (value, file) {
        (Some(_), Some(_)) => Err(TokenError::InvalidInput(format!(
            "set {value_name} or {file_name}, not both"
        ))),
        (Some(value), None) => Ok(Some(value.clone())),
        (None, Some(path)) => {
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                TokenError::InvalidInput(format!(
                    "{file_name} ({}) cannot be read: {}",
                    path.display(),
                    e.kind()
                ))
            })?);
            Ok(Some(Zeroizing::new(
                text.trim_end_matches(['\r', '\n']).to_owned(),
            )))
        }
        (None, None) => Ok(None),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some(digit(*hi)? << 4 | digit(*lo)?),
            _ => None,
        })
        .collect()
}

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
        crate::random::fill(candidate.as_mut())?;
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
