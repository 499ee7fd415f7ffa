//! Test support: `keys` (generated RSA keys and certificates, once per binary), `saml_idp` (the fake SAML
//! IdP: Entra-shaped responses, signed by bergshamra in one of three modes) and `xsw` (string surgery on a
//! signed response for the wrapping corpus); `entra` (ID tokens, JWKS, an in-memory fetcher) and
//! `fake_entra` (an actix-web fake of Entra's token and JWKS endpoints on loopback).

pub mod entra;
pub mod fake_entra;
pub mod keys;
pub mod saml_idp;
pub mod xsw;
