//! The SCIM bearer token format and the secret types that carry it.
//!
//! A token is `scimd_` + 43 body characters + 6 checksum characters, all from the base62 alphabet
//! `0-9A-Za-z` (55 characters in all):
//!
//! - **Body.** Each character is drawn uniformly from the 62-character alphabet by rejection sampling on
//!   bytes from the operating system's random source: a byte is kept only if it is below 248 (= 4 * 62), and
//!   then `byte % 62` is uniform; bytes 248..=255 are discarded. This is simpler to audit than a big-number
//!   base conversion and has no modulo bias. 43 uniform base62 characters carry 43 * log2(62) = 256.03 bits.
//! - **Checksum.** CRC32 (IEEE) of the 43 body bytes, written as exactly 6 base62 digits, most significant
//!   first (62^6 > 2^32). It lets anyone (scimd itself, secret scanners) reject a mistyped or truncated token
//!   offline. It is not a MAC: it protects against accidents, the 256-bit body protects against guessing.
//!
//! What the database keeps is the SHA-256 of the whole token ([`TokenHash`]) and a [`TokenHint`] (the prefix
//! and the last four characters). The plaintext lives in a [`PlaintextToken`], whose `Debug` and `Display`
//! show only the hint and whose memory is zeroed on drop.

use crate::error::TokenError;
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// What every token starts with, so that secret scanners and people recognise it.
pub const PREFIX: &str = "scimd_";
/// Base62 body characters: 43 * log2(62) >= 256 bits.
pub const BODY_LEN: usize = 43;
/// Base62 checksum characters: 62^6 > 2^32.
pub const CHECKSUM_LEN: usize = 6;
/// The length of a whole token.
pub const TOKEN_LEN: usize = PREFIX.len() + BODY_LEN + CHECKSUM_LEN;
/// The base62 alphabet, in digit order.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The largest multiple of 62 that fits in a byte's range: bytes at or above it are rejected.
const REJECT_FROM: u8 = 248;

/// Why a presented string is not a well-formed token (for the debug log; callers answer one 401 for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatError {
    /// Wrong prefix, wrong length, or a character outside the alphabet.
    Malformed,
    /// Well formed, but the checksum does not match the body.
    BadChecksum,
}

/// A freshly generated token. It exists once: shown to the admin, then dropped (and zeroed).
pub struct PlaintextToken(Zeroizing<String>);

impl PlaintextToken {
    /// A new token from the operating system's random source.
    pub fn generate() -> Result<PlaintextToken, TokenError> {
        generate_with(&mut SysRng).map_err(|_| TokenError::Random)
    }

    /// The token's SHA-256, which is what gets stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// The non-secret hint stored beside the hash.
    pub fn hint(&self) -> TokenHint {
        TokenHint::of(&self.0)
    }

    /// Hands the plaintext to the one place that shows it (the one-time reveal, the CLI's output).
    pub fn expose_once(self) -> String {
        // `Zeroizing` zeroes its copy on drop; the caller owns the only other copy.
        self.0.as_str().to_owned()
    }
}

impl fmt::Debug for PlaintextToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlaintextToken({})", self.hint())
    }
}

impl fmt::Display for PlaintextToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.hint(), f)
    }
}

/// Generates a token from any fallible byte source (the OS source in production; tests may pass a seeded one
/// to check the sampler itself).
pub fn generate_with<R: TryRng + ?Sized>(rng: &mut R) -> Result<PlaintextToken, R::Error> {
    let mut token = Zeroizing::new(String::with_capacity(TOKEN_LEN));
    token.push_str(PREFIX);
    let mut pool = Zeroizing::new([0u8; 64]);
    let mut body_len = 0;
    while body_len < BODY_LEN {
        rng.try_fill_bytes(pool.as_mut())?;
        for &byte in pool.iter() {
            if byte >= REJECT_FROM {
                continue;
            }
            token.push(char::from(ALPHABET[usize::from(byte % 62)]));
            body_len += 1;
            if body_len == BODY_LEN {
                break;
            }
        }
    }
    let checksum = checksum_chars(&token.as_bytes()[PREFIX.len()..]);
    for byte in checksum {
        token.push(char::from(byte));
    }
    Ok(PlaintextToken(token))
}

/// The 6 base62 digits of the CRC32 of `body`.
fn checksum_chars(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut value = crc32fast::hash(body);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        // `value % 62` is below 62, so the index is in range; `get` keeps the lints happy without a panic path.
        *slot = ALPHABET.get((value % 62) as usize).copied().unwrap_or(b'0');
        value /= 62;
    }
    out
}

/// Checks a presented token offline: prefix, length, alphabet, checksum. No database is involved.
pub fn check_format(presented: &str) -> Result<(), FormatError> {
    let bytes = presented.as_bytes();
    if bytes.len() != TOKEN_LEN || !presented.starts_with(PREFIX) {
        return Err(FormatError::Malformed);
    }
    let rest = &bytes[PREFIX.len()..];
    if !rest.iter().all(u8::is_ascii_alphanumeric) {
        return Err(FormatError::Malformed);
    }
    let (body, checksum) = rest.split_at(BODY_LEN);
    // Not a secret comparison (the checksum is derived from the presented body), but constant time costs
    // nothing here.
    if bool::from(checksum_chars(body).ct_eq(checksum)) {
        Ok(())
    } else {
        Err(FormatError::BadChecksum)
    }
}

/// SHA-256 of a whole token: the only form in which a token is stored or looked up.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TokenHash {}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// The non-secret part of a token shown in lists and audit events: `scimd_…` and the last 4 characters.
/// The last 4 characters are checksum digits: they reveal under 24 bits about the CRC of the body and nothing
/// more about the 256-bit body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHint(String);

impl TokenHint {
    fn of(token: &str) -> TokenHint {
        let tail = token.get(token.len().saturating_sub(4)..).unwrap_or("");
        TokenHint(format!("{PREFIX}…{tail}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for TokenHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_has_the_documented_shape() {
        let token = PlaintextToken::generate().unwrap().expose_once();
        assert_eq!(token.len(), 55);
        assert!(token.starts_with("scimd_"));
        assert_eq!(check_format(&token), Ok(()));
    }

    #[test]
    fn debug_and_display_show_only_the_hint() {
        let token = PlaintextToken::generate().unwrap();
        let hint = token.hint();
        let debug = format!("{token:?}");
        let display = format!("{token}");
        let plain = token.expose_once();
        assert!(!debug.contains(&plain[6..]), "{debug}");
        assert!(!display.contains(&plain[6..]), "{display}");
        assert_eq!(display, hint.as_str());
        assert!(hint.as_str().ends_with(&plain[51..]));
    }

    #[test]
    fn the_hash_debug_prints_no_bytes() {
        let hash = TokenHash::of("scimd_x");
        assert_eq!(format!("{hash:?}"), "TokenHash(..)");
    }

    #[test]
    fn checksum_is_six_digits_of_crc32() {
        // CRC32 of the empty string is 0; of "a" is 0xE8B7BE43 = 3904355907.
        assert_eq!(&checksum_chars(b""), b"000000");
        let mut value: u64 = 0;
        for c in checksum_chars(b"a") {
            let digit = ALPHABET.iter().position(|&a| a == c).unwrap() as u64;
            value = value * 62 + digit;
        }
        assert_eq!(value, 3_904_355_907);
    }
}
