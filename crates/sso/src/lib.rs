//! Sign-in protocols for an org's SSO connection (SAML 2.0 SP, OpenID Connect with Entra ID); the crate's
//! documentation is its `README.md`, included below, with the checklists the comments cite (S1–S20, O1–O10).
//! The `testing` feature exports the fake IdPs (SAML and Entra ID) that this crate's tests and the server's use.
#![doc = include_str!("../README.md")]

pub mod oidc;
mod random;
pub mod saml;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod url_policy;

pub use random::RandomError;
