//! scimd-sso's integration tests, one binary. The fake IdPs are `scimd_sso::testing` (the `testing`
//! feature): RSA keys and self-signed certificates made once per test binary, an Entra-shaped SAML response
//! builder that signs with bergshamra, and (for OIDC) a JWKS and ID-token signer and a fake Entra server;
//! `xsw` is the string surgery of the wrapping corpus. Time is always a fixed `now`: nothing here sleeps.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

mod oidc_flow;
mod oidc_http;
mod oidc_id_token;
mod oidc_jwks;
mod saml_accept;
mod saml_attacks;
mod saml_binding;
mod saml_config;
mod saml_independent;
mod saml_metadata;
mod saml_protocol;
mod saml_request;
mod xsw;
