//! CSRF defences for every form: a token bound to the session, and an Origin check.
//!
//! - The token of a signed-in form is `SHA-256("scimd-admin-csrf-v1" || session cookie)` in hex. Only a page
//!   of this origin can read it (the cookie is HttpOnly, the hash is one-way), it needs no server state, and
//!   it changes with every session.
//! - The login form, which has no session yet, uses a random value set in a short-lived cookie and echoed in
//!   the form (double submit).
//! - Every POST must come from this server: its `Origin` (or, without one, its `Referer`) must be the public
//!   URL's origin or the request's own host. Browsers always send `Origin` on form POSTs; `null` and any
//!   other value is refused. `Sec-Fetch-Site: cross-site` is refused whatever the rest says.

use crate::state::AdminState;
use actix_web::HttpRequest;
use actix_web::http::header;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const DOMAIN: &[u8] = b"scimd-admin-csrf-v1\0";

/// The CSRF token of the session whose cookie is `cookie_value`.
pub fn token_for_session(cookie_value: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(cookie_value.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random value for the login form's double-submit cookie.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares a submitted token with the expected one in constant time.
pub fn matches(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

/// Whether a state-changing request comes from this server's own pages.
pub fn same_origin(req: &HttpRequest, state: &AdminState) -> bool {
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"))
    {
        return false;
    }
    let origin = match headers.get(header::ORIGIN) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None => headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| url::Url::parse(r).ok())
            .map(|u| u.origin().ascii_serialization()),
    };
    let Some(origin) = origin else {
        // Neither header: not a browser form post (browsers send Origin on every POST). The CSRF token, which
        // only our pages can read, still has to match.
        return true;
    };
    if state.public_origin().is_some_and(|own| own == origin) {
        return true;
    }
    // The request's own host: a browser cannot be made to send a Host header other than the site it talks to.
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_authority = url::Url::parse(&origin).ok().and_then(|u| {
        let host = u.host_str()?.to_owned();
        Some(match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    matches!((host, origin_authority), (Some(host), Some(authority)) if host.eq_ignore_ascii_case(&authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_differ_per_session_and_compare_exactly() {
        let a = token_for_session("cookie-a");
        let b = token_for_session("cookie-b");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(matches(&a, &a.clone()));
        assert!(!matches(&a, &b));
        assert!(!matches(&a, ""));
        assert!(!matches("", ""));
    }
}
