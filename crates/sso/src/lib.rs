//! Sign-in protocols for an org's SSO connection (SAML 2.0 SP, OpenID Connect with Entra ID); the crate's
//! documentation is its `README.md`, included below, with the checklists the comments cite (S1–S20, O1–O10).
#![doc = include_str!("../README.md")]

pub mod oidc;
mod random;
pub mod saml;
mod url_policy;

pub use random::RandomError;
