//! Building a connection's SP settings: the derived URLs, and the refusals that keep a connection without a
//! usable pinned certificate from verifying anything (fail closed, S9).

use scimd_sso::saml::{Expectation, SpConfig, SpConfigError, verify_response};
use scimd_sso::testing::keys;
use scimd_sso::testing::saml_idp::{IDP_ENTITY_ID, Mode, REQUEST_ID, Spec, b64, now, signed};

#[test]
fn the_sp_urls_are_per_org() {
    let c = SpConfig::new(
        "https://scimd.example.com/",
        "acme",
        IDP_ENTITY_ID,
        &[&keys::idp().cert_pem],
    )
    .unwrap();
    assert_eq!(c.sp_entity_id(), "https://scimd.example.com/sso/saml/acme");
    assert_eq!(c.acs_url(), "https://scimd.example.com/sso/saml/acme/acs");
    assert!(!c.allow_unsolicited());
    assert_eq!(c.clock_skew(), chrono::TimeDelta::minutes(3));
}

#[test]
fn a_connection_without_a_usable_certificate_cannot_be_built() {
    let make =
        |certs: &[&str]| SpConfig::new("https://scimd.example.com", "acme", IDP_ENTITY_ID, certs).map(|_| ());
    assert_eq!(make(&[]), Err(SpConfigError::NoCertificate));
    assert_eq!(
        make(&["not a pem"]),
        Err(SpConfigError::BadCertificate { index: 0 })
    );
    assert_eq!(
        make(&[&keys::idp().cert_pem, ""]),
        Err(SpConfigError::BadCertificate { index: 1 })
    );
    assert_eq!(
        make(&[&keys::weak().cert_pem]),
        Err(SpConfigError::WeakCertificate { index: 0 })
    );
    assert_eq!(
        make(&[&keys::idp().private_pem]),
        Err(SpConfigError::BadCertificate { index: 0 })
    );
    let three = [
        keys::idp().cert_pem.as_str(),
        &keys::idp_next().cert_pem,
        &keys::attacker().cert_pem,
    ];
    assert_eq!(make(&three), Err(SpConfigError::TooManyCertificates));
}

#[test]
fn urls_org_and_issuer_are_validated() {
    let pem = keys::idp().cert_pem.as_str();
    assert_eq!(
        SpConfig::new("scimd.example.com", "acme", IDP_ENTITY_ID, &[pem]).unwrap_err(),
        SpConfigError::BadPublicUrl
    );
    assert_eq!(
        SpConfig::new("ftp://scimd.example.com", "acme", IDP_ENTITY_ID, &[pem]).unwrap_err(),
        SpConfigError::BadPublicUrl
    );
    assert_eq!(
        SpConfig::new("https://scimd.example.com", "ac/me", IDP_ENTITY_ID, &[pem]).unwrap_err(),
        SpConfigError::BadOrg
    );
    assert_eq!(
        SpConfig::new("https://scimd.example.com", "", IDP_ENTITY_ID, &[pem]).unwrap_err(),
        SpConfigError::BadOrg
    );
    assert_eq!(
        SpConfig::new("https://scimd.example.com", "acme", " ", &[pem]).unwrap_err(),
        SpConfigError::EmptyIdpEntityId
    );
}

#[test]
fn a_replayed_response_yields_the_same_assertion_id_for_the_callers_replay_table() {
    // The library is stateless: replay protection is the caller's unique (org, assertion_id) insert, kept
    // until replay_keep_until. Both verifications name the same key, so the second insert fails.
    let config = scimd_sso::testing::saml_idp::config();
    let message = b64(&signed(&Spec::entra(), Mode::Assertion));
    let first = verify_response(&config, &message, Expectation::Solicited(REQUEST_ID), now()).unwrap();
    let second = verify_response(&config, &message, Expectation::Solicited(REQUEST_ID), now()).unwrap();
    assert_eq!(
        (first.assertion_id, first.replay_keep_until),
        (second.assertion_id, second.replay_keep_until)
    );
}
