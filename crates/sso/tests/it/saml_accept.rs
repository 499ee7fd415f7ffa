//! What a correct Entra response yields, in each signing mode Entra offers, and with a rollover certificate.

use chrono::TimeDelta;
use scimd_sso::saml::{CertificateSlot, Expectation, SpConfig, verify_response};
use scimd_sso::testing::keys;
use scimd_sso::testing::saml_idp::{
    self, Mode, OBJECT_ID, REQUEST_ID, Signer, Spec, TENANT, b64, config, now, signed, verify_solicited,
};

/// The org's connection during a certificate rollover: the current certificate and the next one pinned.
fn rollover_config() -> SpConfig {
    SpConfig::new(
        saml_idp::PUBLIC_URL,
        saml_idp::ORG,
        saml_idp::IDP_ENTITY_ID,
        &[&keys::idp().cert_pem, &keys::idp_next().cert_pem],
    )
    .unwrap()
}

#[test]
fn an_assertion_signed_response_yields_the_identity_claims() {
    let spec = Spec::entra();
    let got = verify_solicited(&config(), &signed(&spec, Mode::Assertion)).unwrap();
    assert_eq!(got.assertion_id, spec.assertion_id);
    assert_eq!(got.name_id, spec.name_id);
    assert_eq!(
        got.name_id_format.as_deref(),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    );
    assert_eq!(got.object_id.as_deref(), Some(OBJECT_ID));
    assert_eq!(got.tenant_id.as_deref(), Some(TENANT));
    assert_eq!(got.email.as_deref(), Some("ada@acme.example"));
    assert_eq!(got.session_not_on_or_after, spec.session_not_on_or_after);
    assert_eq!(got.authn_instant, spec.issue_instant);
    assert_eq!(got.in_response_to.as_deref(), Some(REQUEST_ID));
    assert_eq!(got.certificate, CertificateSlot::Primary);
    // The replay entry must outlive the last instant at which the assertion is still accepted.
    assert_eq!(
        got.replay_keep_until,
        spec.not_on_or_after + TimeDelta::minutes(3)
    );
}

#[test]
fn a_response_signed_at_the_response_level_is_accepted() {
    let got = verify_solicited(&config(), &signed(&Spec::entra(), Mode::Response));
    assert_eq!(got.unwrap().object_id.as_deref(), Some(OBJECT_ID));
}

#[test]
fn a_response_signed_at_both_levels_is_accepted() {
    let xml = signed(&Spec::entra(), Mode::Both);
    assert_eq!(
        xml.matches("<SignatureValue>").count(),
        2,
        "both levels carry a signature"
    );
    let got = verify_solicited(&config(), &xml);
    assert_eq!(got.unwrap().object_id.as_deref(), Some(OBJECT_ID));
}

#[test]
fn the_rollover_certificate_verifies_and_is_reported() {
    let config = rollover_config();
    let xml = saml_idp::signed_xml(&Spec::entra(), Mode::Assertion, &Signer::with(keys::idp_next()));
    let got = verify_solicited(&config, &xml).unwrap();
    assert_eq!(got.certificate, CertificateSlot::Secondary);
    // The current certificate keeps working during the rollover.
    let got = verify_solicited(&config, &signed(&Spec::entra(), Mode::Assertion));
    assert_eq!(got.unwrap().certificate, CertificateSlot::Primary);
}

#[test]
fn without_key_info_every_pinned_certificate_is_tried() {
    let config = rollover_config();
    let signer = Signer {
        embed: None,
        ..Signer::with(keys::idp_next())
    };
    let xml = saml_idp::signed_xml(&Spec::entra(), Mode::Assertion, &signer);
    assert!(!xml.contains("<KeyInfo>"));
    let got = verify_solicited(&config, &xml).unwrap();
    assert_eq!(got.certificate, CertificateSlot::Secondary);
}

#[test]
fn an_unsolicited_response_is_accepted_only_where_the_connection_allows_it() {
    let spec = Spec {
        in_response_to: None,
        ..Spec::entra()
    };
    let message = b64(&signed(&spec, Mode::Assertion));
    let allowing = config().with_allow_unsolicited(true);
    let got = verify_response(&allowing, &message, Expectation::Unsolicited, now()).unwrap();
    assert_eq!(got.in_response_to, None);
    let refused = verify_response(&config(), &message, Expectation::Unsolicited, now()).unwrap_err();
    assert_eq!(refused.reason_code(), "saml_unsolicited");
}

#[test]
fn the_response_issuer_may_be_absent_but_the_assertion_issuer_decides() {
    let spec = Spec {
        response_issuer: None,
        ..Spec::entra()
    };
    let got = verify_solicited(&config(), &signed(&spec, Mode::Assertion));
    assert!(got.is_ok(), "{got:?}");
}

#[test]
fn base64_wrapped_over_lines_is_accepted() {
    let encoded = b64(&signed(&Spec::entra(), Mode::Assertion));
    let wrapped: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n");
    assert!(verify_response(&config(), &wrapped, Expectation::Solicited(REQUEST_ID), now()).is_ok());
}

#[test]
fn the_debug_output_hides_the_personal_claims() {
    let got = verify_solicited(&config(), &signed(&Spec::entra(), Mode::Assertion)).unwrap();
    let debug = format!("{got:?}");
    assert!(!debug.contains("ada@acme.example"), "{debug}");
    assert!(!debug.contains(&Spec::entra().name_id), "{debug}");
    assert!(!debug.contains(OBJECT_ID), "{debug}");
    assert!(debug.contains(&Spec::entra().assertion_id));
}
