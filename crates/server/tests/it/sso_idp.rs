//! The fake SAML IdP and the ID-token helpers of `scimd-sso`'s own tests (keys and certificates made by the test, responses signed with
//! bergshamra as Entra sends them), shared by path rather than copied. Not every helper is used here.

#[allow(dead_code)]
#[path = "../../../sso/tests/it/support/entra.rs"]
pub mod entra;
#[allow(dead_code)]
#[path = "../../../sso/tests/it/support/keys.rs"]
pub mod keys;
#[allow(dead_code)]
#[path = "../../../sso/tests/it/support/saml_idp.rs"]
pub mod saml_idp;
