//! Responses signed by Debian's xmlsec1 (libxmlsec1 on OpenSSL), not by bergshamra: the verifier must accept
//! them, so signer and verifier cannot share a canonicalisation bug unseen. Regenerate with
//! `tests/fixtures/xmlsec1/regenerate.sh` (see the README there).

use chrono::{TimeZone, Utc};
use scimd_sso::saml::{Expectation, SamlError, SpConfig, VerifiedAssertion, verify_response};
use scimd_sso::testing::saml_idp::{PUBLIC_URL, REQUEST_ID, b64};

const CERT: &str = include_str!("../fixtures/xmlsec1/cert.pem");
const ASSERTION_SIGNED: &str = include_str!("../fixtures/xmlsec1/assertion-signed.xml");
const RESPONSE_SIGNED: &str = include_str!("../fixtures/xmlsec1/response-signed.xml");
const ISSUER: &str = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/";

fn config() -> SpConfig {
    SpConfig::new(PUBLIC_URL, "acme", ISSUER, &[CERT]).unwrap()
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 1, 0).unwrap()
}

/// Verifies `xml` as the answer to our request, with `config`, at the fixtures' time.
fn verify(config: &SpConfig, xml: &str) -> Result<VerifiedAssertion, SamlError> {
    verify_response(config, &b64(xml), Expectation::Solicited(REQUEST_ID), at())
}

#[test]
fn an_xmlsec1_signed_assertion_is_accepted() {
    let got = verify(&config(), ASSERTION_SIGNED).unwrap();
    assert_eq!(got.assertion_id, "_xmlsec1-assertion");
    assert_eq!(got.name_id, "xmlsec1-persistent-id");
    assert_eq!(got.object_id.as_deref(), Some("0b7c4f3e-xmlsec1-oid"));
    assert_eq!(got.email.as_deref(), Some("grace@acme.example"));
}

#[test]
fn an_xmlsec1_signed_response_is_accepted() {
    let got = verify(&config(), RESPONSE_SIGNED).unwrap();
    assert_eq!(got.assertion_id, "_xmlsec1-assertion");
}

#[test]
fn the_xmlsec1_fixtures_are_really_checked() {
    for (fixture, code) in [
        (ASSERTION_SIGNED, "saml_signature_invalid"),
        (RESPONSE_SIGNED, "saml_signature_invalid"),
    ] {
        let tampered = fixture.replacen("grace@acme.example", "grace@acme.examplf", 1);
        assert_ne!(tampered, fixture);
        let e = verify(&config(), &tampered).unwrap_err();
        assert_eq!(e.reason_code(), code);
    }
    // And with the fake IdP's pinned certificate instead of the fixture's, nothing verifies.
    let other = scimd_sso::testing::saml_idp::config();
    let e = verify(&other, ASSERTION_SIGNED).unwrap_err();
    assert_eq!(e.reason_code(), "saml_untrusted_certificate");
}
