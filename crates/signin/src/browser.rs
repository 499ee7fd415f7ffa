//! What a sign-in hands the browser, and how it is checked when the browser comes back.
//!
//! - The **RelayState** (SAML) is 256 random bits, base64url (43 characters, under the binding's 80-byte
//!   limit). It names the pending request; the row's key is its SHA-256, so the database never holds it.
//! - The **binding cookie** is another 256 random bits, set on the browser that started the sign-in; the row
//!   keeps its SHA-256. A RelayState that arrives from another browser (a link someone sent) does not match.
//! - The **return path** is a path on this server only (no scheme, no host, no `//`): no open redirect.
//! - The **PKCE verifier** of an Entra sign-in is not stored: it is derived from the binding cookie and
//!   `state`, so only the browser that started can finish.

use crate::error::SignInError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scimd_sso::oidc::PkceVerifier;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The longest `return_to` accepted: a path on this server and its query (the OpenID Provider's authorize
/// request comes back through it, 400 to 700 bytes with a typical client), kept short since every pending
/// sign-in stores it.
pub const MAX_RETURN_TO: usize = 2048;
/// How long the binding cookie lives: as long as the pending request.
pub const BROWSER_COOKIE_SECS: i64 = 600;

/// 256 random bits, base64url without padding.
pub(crate) fn random_value() -> Result<String, SignInError> {
    let bytes = scimd_tokens::random::bytes::<32>().map_err(|_| SignInError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The verifier of a sign-in: `BASE64URL(SHA-256("pkce" || binding cookie || state))`, 43 characters.
pub(crate) fn pkce_verifier(browser_cookie: &str, state: &str) -> PkceVerifier {
    let mut hash = Sha256::new();
    hash.update(b"scimd pkce\0");
    hash.update(browser_cookie.as_bytes());
    hash.update(b"\0");
    hash.update(state.as_bytes());
    PkceVerifier::from_stored(URL_SAFE_NO_PAD.encode(hash.finalize()))
}

pub(crate) fn digest(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// Whether the browser's cookie is the one the pending request was bound to.
pub(crate) fn same_browser(stored_hash: &[u8], cookie: Option<&str>) -> bool {
    cookie.is_some_and(|c| bool::from(digest(c).ct_eq(stored_hash)))
}

/// The checked return path, or the org's settings page when none was asked for.
pub(crate) fn return_path(raw: Option<&str>, default: String) -> Result<String, SignInError> {
    let Some(path) = raw.filter(|p| !p.is_empty()) else {
        return Ok(default);
    };
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= MAX_RETURN_TO
        && !path.chars().any(|c| c.is_control() || c == '\\');
    if local {
        Ok(path.to_owned())
    } else {
        Err(SignInError::BadReturnTo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_return_paths() {
        let default = || "/admin".to_owned();
        assert_eq!(return_path(None, default()).unwrap(), "/admin");
        assert_eq!(return_path(Some(""), default()).unwrap(), "/admin");
        assert_eq!(
            return_path(Some("/admin/orgs/x/members?q=a"), default()).unwrap(),
            "/admin/orgs/x/members?q=a"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "admin",
            "/a\nb",
            "/a\\b",
        ] {
            assert!(
                matches!(return_path(Some(bad), default()), Err(SignInError::BadReturnTo)),
                "{bad}"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_RETURN_TO));
        assert!(matches!(
            return_path(Some(&long), default()),
            Err(SignInError::BadReturnTo)
        ));
    }

    #[test]
    fn the_binding_is_checked_against_the_digest() {
        let cookie = random_value().unwrap();
        assert_eq!(cookie.len(), 43);
        let stored = digest(&cookie);
        assert!(same_browser(&stored, Some(&cookie)));
        assert!(!same_browser(&stored, Some(&random_value().unwrap())));
        assert!(!same_browser(&stored, None));
    }
}
