//! Sign-in protocols for an org's SSO connection, as pure library code: no routes, no tables, no pages.
//!
//! - [`saml`]: SAML 2.0 Web Browser SSO as a Service Provider: the HTTP-POST ACS verifier
//!   ([`saml::verify_response`]), the SP-initiated `AuthnRequest` (HTTP-Redirect binding), SP metadata and the
//!   IdP metadata reader for the admin upload. The checklist it follows is `shared/research/sso.md` §3 (S1–S20).
//! - [`oidc`]: OpenID Connect for Microsoft Entra ID: PKCE S256, `state` and `nonce`, the tenant-specific
//!   authorize URL, ID token validation against a JWKS, and a JWKS cache that refreshes once on an unknown `kid`.
//! - `testing` (the `testing` feature): the fake IdPs of this crate's tests and the server's.
//!
//! Time is always a parameter (`now`), so expiry and skew are tested without sleeping. Errors carry a stable
//! `reason_code()` for the audit trail; what the browser sees stays generic (the caller's job).
//! No NameID, e-mail address, token or secret is printed by any `Debug` implementation here.

pub mod oidc;
mod random;
pub mod saml;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod url_policy;

pub use random::RandomError;
