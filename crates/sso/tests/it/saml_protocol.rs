//! The protocol checks on a correctly signed message (S10–S16): Destination, Recipient, Audience, Issuer,
//! Status, InResponseTo, times with skew, AuthnStatement. Each bent value is refused with its own code.

use chrono::{DateTime, TimeDelta, Utc};
use scimd_sso::saml::{Expectation, SpConfig, verify_response};
use scimd_sso::testing::keys;
use scimd_sso::testing::saml_idp::{Mode, REQUEST_ID, Spec, b64, config, now, signed, verify_solicited};

fn code_at(spec: &Spec, expect: Expectation<'_>, at: DateTime<Utc>) -> Result<(), &'static str> {
    verify_response(&config(), &b64(&signed(spec, Mode::Assertion)), expect, at)
        .map(|_| ())
        .map_err(|e| e.reason_code())
}

fn code(spec: &Spec) -> Result<(), &'static str> {
    code_at(spec, Expectation::Solicited(REQUEST_ID), now())
}

#[test]
fn a_wrong_destination_is_refused() {
    let spec = Spec {
        destination: Some("https://scimd.example.com/sso/saml/globex/acs".into()),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_wrong_destination"));
}

#[test]
fn a_signed_response_must_carry_a_destination() {
    let spec = Spec {
        destination: None,
        ..Spec::entra()
    };
    let e = verify_solicited(&config(), &signed(&spec, Mode::Response)).unwrap_err();
    assert_eq!(e.reason_code(), "saml_missing_destination");
    // When only the Assertion is signed, the (unsigned) Response may omit it.
    assert_eq!(code(&spec), Ok(()));
}

#[test]
fn a_wrong_recipient_is_refused() {
    let spec = Spec {
        recipient: "https://evil.example/sso/saml/acme/acs".into(),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_wrong_recipient"));
}

#[test]
fn a_wrong_audience_is_refused() {
    let spec = Spec {
        audience: "https://scimd.example.com/sso/saml/globex".into(),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_wrong_audience"));
}

#[test]
fn an_assertion_for_another_org_is_refused_by_that_orgs_connection() {
    // Both orgs trust the same IdP; acme's assertion is posted to globex's ACS.
    let globex = SpConfig::new(
        "https://scimd.example.com",
        "globex",
        scimd_sso::testing::saml_idp::IDP_ENTITY_ID,
        &[&keys::idp().cert_pem],
    )
    .unwrap();
    let e = verify_solicited(&globex, &signed(&Spec::entra(), Mode::Assertion)).unwrap_err();
    assert_eq!(e.reason_code(), "saml_wrong_destination");
    let spec = Spec {
        destination: None,
        ..Spec::entra()
    };
    let e = verify_solicited(&globex, &signed(&spec, Mode::Assertion)).unwrap_err();
    assert_eq!(e.reason_code(), "saml_wrong_recipient");
}

#[test]
fn an_unknown_condition_is_refused() {
    let spec = Spec {
        extra_condition: "<Condition xmlns:x=\"urn:x\"/>".into(),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_unknown_condition"));
    let spec = Spec {
        extra_condition: "<OneTimeUse/>".into(),
        ..Spec::entra()
    };
    assert_eq!(
        code(&spec),
        Ok(()),
        "OneTimeUse is understood (the replay table enforces it)"
    );
}

#[test]
fn a_wrong_issuer_is_refused() {
    // Entra's issuer has a trailing slash; without it, it is another entity.
    let spec = Spec {
        assertion_issuer: scimd_sso::testing::saml_idp::IDP_ENTITY_ID
            .trim_end_matches('/')
            .into(),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_wrong_issuer"));
    let spec = Spec {
        response_issuer: Some("https://idp.evil.example/".into()),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_wrong_issuer"));
}

#[test]
fn a_status_other_than_success_is_refused_with_the_status() {
    let spec = Spec {
        status: "urn:oasis:names:tc:SAML:2.0:status:Requester".into(),
        ..Spec::entra()
    };
    let e = verify_solicited(&config(), &signed(&spec, Mode::Assertion)).unwrap_err();
    assert_eq!(e.reason_code(), "saml_status_not_success");
    assert!(e.to_string().contains("status:Requester"), "{e}");
}

#[test]
fn a_foreign_in_response_to_is_refused() {
    assert_eq!(
        code_at(
            &Spec::entra(),
            Expectation::Solicited("_ffffffffffffffffffffffffffffffff"),
            now()
        ),
        Err("saml_in_response_to_mismatch")
    );
    // A solicited flow must not accept a response that answers nothing.
    let spec = Spec {
        in_response_to: None,
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_in_response_to_mismatch"));
}

#[test]
fn an_unsolicited_response_is_refused_by_default() {
    let spec = Spec {
        in_response_to: None,
        ..Spec::entra()
    };
    assert_eq!(
        code_at(&spec, Expectation::Unsolicited, now()),
        Err("saml_unsolicited")
    );
}

#[test]
fn where_unsolicited_is_allowed_a_response_to_some_request_is_still_refused() {
    let allowing = config().with_allow_unsolicited(true);
    let message = b64(&signed(&Spec::entra(), Mode::Assertion));
    let e = verify_response(&allowing, &message, Expectation::Unsolicited, now()).unwrap_err();
    assert_eq!(e.reason_code(), "saml_in_response_to_mismatch");
}

#[test]
fn the_bearer_confirmation_expires_at_its_not_on_or_after_plus_skew() {
    let spec = Spec::entra();
    let until = spec.bearer_not_on_or_after + TimeDelta::minutes(3);
    // Issue instants stay within the accepted age at these instants.
    assert_eq!(
        code_at(
            &spec,
            Expectation::Solicited(REQUEST_ID),
            until - TimeDelta::seconds(1)
        ),
        Ok(())
    );
    assert_eq!(
        code_at(&spec, Expectation::Solicited(REQUEST_ID), until),
        Err("saml_expired")
    );
}

#[test]
fn expired_conditions_are_refused() {
    let spec = Spec {
        not_on_or_after: now() - TimeDelta::minutes(4),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_expired"));
    let spec = Spec {
        not_on_or_after: now() - TimeDelta::minutes(2),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Ok(()), "within the skew");
}

#[test]
fn not_yet_valid_conditions_are_refused_beyond_the_skew() {
    let spec = Spec {
        not_before: now() + TimeDelta::minutes(3) + TimeDelta::seconds(1),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_not_yet_valid"));
    // Entra's NotBefore equals IssueInstant with no buffer: a slightly fast IdP clock still works.
    let spec = Spec {
        not_before: now() + TimeDelta::minutes(2),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Ok(()));
}

#[test]
fn an_issue_instant_in_the_future_or_too_old_is_refused() {
    let spec = Spec {
        issue_instant: now() + TimeDelta::minutes(4),
        not_before: now(),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_issue_instant"));
    let spec = Spec {
        issue_instant: now() - TimeDelta::minutes(14),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_issue_instant"));
}

#[test]
fn a_smaller_configured_skew_is_honoured() {
    let tight = config().with_clock_skew(TimeDelta::zero()).unwrap();
    let spec = Spec {
        not_before: now() + TimeDelta::seconds(1),
        ..Spec::entra()
    };
    let e = verify_solicited(&tight, &signed(&spec, Mode::Assertion)).unwrap_err();
    assert_eq!(e.reason_code(), "saml_not_yet_valid");
    assert!(config().with_clock_skew(TimeDelta::minutes(6)).is_err());
}

#[test]
fn an_assertion_without_an_authn_statement_is_refused() {
    let xml = scimd_sso::testing::saml_idp::template(&Spec::entra());
    let start = xml.find("<AuthnStatement").unwrap();
    let end = xml.find("</AuthnStatement>").unwrap() + "</AuthnStatement>".len();
    let xml = format!("{}{}", &xml[..start], &xml[end..]);
    let signer = scimd_sso::testing::saml_idp::Signer::default();
    let xml = xml
        .replace(scimd_sso::testing::saml_idp::RESPONSE_SIG, "")
        .replace(
            scimd_sso::testing::saml_idp::ASSERTION_SIG,
            &scimd_sso::testing::saml_idp::signature_template(&Spec::entra().assertion_id, &signer),
        );
    let xml = scimd_sso::testing::saml_idp::fill(&xml, &signer);
    let e = verify_solicited(&config(), &xml).unwrap_err();
    assert_eq!(e.reason_code(), "saml_missing_authn_statement");
}

#[test]
fn an_empty_name_id_is_refused() {
    let spec = Spec {
        name_id: "  ".into(),
        ..Spec::entra()
    };
    assert_eq!(code(&spec), Err("saml_missing_name_id"));
}
