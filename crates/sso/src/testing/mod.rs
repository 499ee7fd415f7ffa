//! Test support for this crate's tests and its users' (the `testing` feature, as `scimd_store::testing`):
//! `keys` (RSA keys and self-signed certificates made by the test, once per binary), `saml_idp` (the fake
//! SAML IdP: Entra-shaped responses signed by bergshamra in one of three modes), `entra` (ID tokens, JWKS, an
//! in-memory fetcher) and `fake_entra` (an actix-web fake of Entra's token and JWKS endpoints on loopback).
#![expect(
    clippy::unwrap_used,
    reason = "test support fails loudly on the first surprise"
)]

pub mod entra;
pub mod fake_entra;
pub mod keys;
pub mod saml_idp;
