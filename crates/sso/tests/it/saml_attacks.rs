//! The attack corpus (issue #14, sso.md §3 and §5.2): each forged or bent message is refused, and with its
//! own reason code, so the audit trail says which defence held. Every case starts from a response the
//! fake IdP signed correctly, so a refusal cannot come from a broken fixture.

use crate::xsw::{self, assertion, assertion_range, evil_assertion, insert, swap, without};
use scimd_sso::saml::{Expectation, SamlError, verify_response};
use scimd_sso::testing::keys;
use scimd_sso::testing::saml_idp::{
    self, Mode, REQUEST_ID, Signer, Spec, config, now, signed, signed_xml, verify_solicited,
};

fn verdict(xml: &str) -> Result<(), SamlError> {
    verify_solicited(&config(), xml).map(|_| ())
}

#[track_caller]
fn assert_refused(xml: &str, code: &str) {
    match verdict(xml) {
        Ok(()) => panic!("accepted a message that must be refused with {code}"),
        Err(e) => assert_eq!(e.reason_code(), code, "refused for another reason: {e}"),
    }
}

#[test]
fn the_untouched_fixtures_are_accepted() {
    // The corpus below mutates these; each must be accepted as it is.
    for mode in [Mode::Assertion, Mode::Response, Mode::Both] {
        assert_eq!(verdict(&signed(&Spec::entra(), mode)), Ok(()), "{mode:?}");
    }
}

// --- XML signature wrapping: the eight SAMLRaider shapes -------------------------------------------------

#[test]
fn xsw1_signed_response_copied_into_its_own_signature() {
    let original = signed(&Spec::entra(), Mode::Response);
    let sig = xsw::response_signature_range(&original);
    let copy = without(&original, sig.clone());
    let mut evil = original.clone();
    let end_of_sig = sig.end - "</Signature>".len();
    evil = insert(&evil, end_of_sig, &copy);
    let evil = swap(&evil, r#"ID="_resp-8d1f3c2a""#, r#"ID="_evil-response""#);
    // The root's own assertion (after the signature that now holds the copy) becomes the attacker's.
    let after_signature = evil.rfind("</samlp:Status>").unwrap();
    let a = xsw::element_range(&evil, "<Assertion ", "</Assertion>", after_signature);
    let evil = format!(
        "{}{}{}",
        &evil[..a.start],
        evil_assertion(&evil[a.clone()]),
        &evil[a.end..]
    );
    assert_refused(&evil, "saml_signature_wrapping");
}

#[test]
fn xsw2_signed_response_copied_next_to_a_detached_signature() {
    let original = signed(&Spec::entra(), Mode::Response);
    let sig = xsw::response_signature_range(&original);
    let copy = without(&original, sig.clone());
    let evil = insert(&original, sig.start, &copy);
    let evil = swap(&evil, r#"ID="_resp-8d1f3c2a""#, r#"ID="_evil-response""#);
    assert_refused(&evil, "saml_signature_wrapping");
}

#[test]
fn xsw3_evil_assertion_before_the_signed_one() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let evil = insert(&original, a.start, &evil_assertion(&original[a]));
    assert_refused(&evil, "saml_multiple_assertions");
}

#[test]
fn xsw4_signed_assertion_wrapped_inside_the_evil_one() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let signed_assertion = &original[a.clone()];
    let evil = evil_assertion(signed_assertion);
    let evil = insert(&evil, evil.len() - "</Assertion>".len(), signed_assertion);
    let message = format!("{}{evil}{}", &original[..a.start], &original[a.end..]);
    assert_refused(&message, "saml_assertion_misplaced");
}

#[test]
fn xsw5_tampered_assertion_keeps_the_signature_and_the_original_is_appended() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let signed_assertion = original[a.clone()].to_owned();
    let tampered = xsw::tampered_keeping_signature(&signed_assertion);
    let copy = xsw::unsigned_copy(&signed_assertion);
    let message = format!("{}{tampered}{copy}{}", &original[..a.start], &original[a.end..]);
    assert_refused(&message, "saml_multiple_assertions");
}

#[test]
fn xsw6_original_assertion_hidden_inside_the_tampered_assertions_signature() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let signed_assertion = original[a.clone()].to_owned();
    let copy = xsw::unsigned_copy(&signed_assertion);
    let mut tampered = xsw::tampered_keeping_signature(&signed_assertion);
    let sig = xsw::signature_range(&tampered, 0);
    tampered = insert(&tampered, sig.end - "</Signature>".len(), &copy);
    let message = format!("{}{tampered}{}", &original[..a.start], &original[a.end..]);
    assert_refused(&message, "saml_assertion_misplaced");
}

#[test]
fn xsw7_signed_assertion_moved_into_extensions_behind_an_evil_one() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let signed_assertion = original[a.clone()].to_owned();
    let extensions = format!("<samlp:Extensions>{signed_assertion}</samlp:Extensions>");
    let rest = format!("{}{}", &original[..a.start], &original[a.end..]);
    let rest = swap(&rest, "<samlp:Status>", &format!("{extensions}<samlp:Status>"));
    let message = insert(
        &rest,
        rest.len() - "</samlp:Response>".len(),
        &evil_assertion(&signed_assertion),
    );
    assert_refused(&message, "saml_assertion_misplaced");
}

#[test]
fn xsw8_original_assertion_in_a_signature_object() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let signed_assertion = original[a.clone()].to_owned();
    let copy = xsw::unsigned_copy(&signed_assertion);
    let mut tampered = xsw::tampered_keeping_signature(&signed_assertion);
    let sig = xsw::signature_range(&tampered, 0);
    tampered = insert(
        &tampered,
        sig.end - "</Signature>".len(),
        &format!("<Object>{copy}</Object>"),
    );
    let message = format!("{}{tampered}{}", &original[..a.start], &original[a.end..]);
    assert_refused(&message, "saml_assertion_misplaced");
}

// --- Assertions in the wrong place or number ---------------------------------------------------------------

#[test]
fn a_signed_assertion_hidden_in_extensions_is_not_consumed() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let signed_assertion = original[a.clone()].to_owned();
    let rest = format!("{}{}", &original[..a.start], &original[a.end..]);
    let message = swap(
        &rest,
        "<samlp:Status>",
        &format!("<samlp:Extensions>{signed_assertion}</samlp:Extensions><samlp:Status>"),
    );
    assert_refused(&message, "saml_assertion_misplaced");
}

#[test]
fn a_signed_assertion_hidden_in_advice_is_not_consumed() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let a = assertion_range(&original);
    let signed_assertion = original[a.clone()].to_owned();
    let evil = evil_assertion(&signed_assertion);
    let evil = swap(
        &evil,
        "<AttributeStatement>",
        &format!("<Advice>{signed_assertion}</Advice><AttributeStatement>"),
    );
    let message = format!("{}{evil}{}", &original[..a.start], &original[a.end..]);
    assert_refused(&message, "saml_assertion_misplaced");
}

#[test]
fn two_signed_assertions_are_refused() {
    let original = signed(&Spec::entra(), Mode::Assertion);
    let second_spec = Spec {
        assertion_id: "_second".into(),
        ..Spec::entra()
    };
    let second = assertion(&signed(&second_spec, Mode::Assertion));
    let message = insert(&original, assertion_range(&original).end, &second);
    assert_refused(&message, "saml_multiple_assertions");
}

#[test]
fn an_encrypted_assertion_is_refused() {
    let original = signed(&Spec::entra(), Mode::Response);
    let a = assertion_range(&original);
    let message = format!(
        "{}<EncryptedAssertion xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\"/>{}",
        &original[..a.start],
        &original[a.end..]
    );
    assert_refused(&message, "saml_encrypted_assertion");
}

#[test]
fn a_response_without_an_assertion_is_refused() {
    let original = signed(&Spec::entra(), Mode::Response);
    let message = without(&original, assertion_range(&original));
    assert_refused(&message, "saml_no_assertion");
}

// --- Signatures: present, placed, shaped, keyed ------------------------------------------------------------

#[test]
fn an_unsigned_response_is_refused() {
    assert_refused(&signed(&Spec::entra(), Mode::Unsigned), "saml_unsigned");
}

#[test]
fn a_tampered_claim_under_a_valid_signature_is_refused() {
    let message = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        "ada@acme.example",
        "eve@acme.example",
    );
    assert_refused(&message, "saml_signature_invalid");
}

#[test]
fn a_response_signed_by_another_key_is_refused() {
    // The attacker's key, with KeyInfo naming the pinned certificate: the signature does not verify.
    let signer = Signer {
        embed: Some(keys::idp()),
        ..Signer::with(keys::attacker())
    };
    assert_refused(
        &signed_xml(&Spec::entra(), Mode::Assertion, &signer),
        "saml_signature_invalid",
    );
    // The same without KeyInfo.
    let signer = Signer {
        embed: None,
        ..Signer::with(keys::attacker())
    };
    assert_refused(
        &signed_xml(&Spec::entra(), Mode::Response, &signer),
        "saml_signature_invalid",
    );
}

#[test]
fn a_response_signed_by_another_key_embedded_in_key_info_is_refused() {
    let xml = signed_xml(&Spec::entra(), Mode::Assertion, &Signer::with(keys::attacker()));
    assert_refused(&xml, "saml_untrusted_certificate");
}

#[test]
fn a_response_signed_by_another_orgs_idp_is_refused() {
    // Globex's IdP signs a response that names acme's ACS and audience: acme's pinned certificate decides.
    let xml = signed_xml(&Spec::entra(), Mode::Assertion, &Signer::with(keys::other_org()));
    assert_refused(&xml, "saml_untrusted_certificate");
    let signer = Signer {
        embed: None,
        ..Signer::with(keys::other_org())
    };
    assert_refused(
        &signed_xml(&Spec::entra(), Mode::Assertion, &signer),
        "saml_signature_invalid",
    );
}

#[test]
fn an_hmac_signature_keyed_with_the_idp_certificate_is_refused_before_any_crypto() {
    for method in [
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
    ] {
        let signer = Signer {
            signature_method: method,
            ..Signer::with(keys::idp())
        };
        let xml = signed_xml(&Spec::entra(), Mode::Assertion, &signer);
        assert_eq!(
            verdict(&xml),
            Err(SamlError::DisallowedAlgorithm { uri: method.into() }),
            "{method}"
        );
    }
}

#[test]
fn sha1_signatures_and_digests_are_refused() {
    let rsa_sha1 = Signer {
        signature_method: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        ..Signer::default()
    };
    assert_refused(
        &signed_xml(&Spec::entra(), Mode::Assertion, &rsa_sha1),
        "saml_disallowed_algorithm",
    );
    let sha1_digest = Signer {
        digest_method: "http://www.w3.org/2000/09/xmldsig#sha1",
        ..Signer::default()
    };
    assert_refused(
        &signed_xml(&Spec::entra(), Mode::Response, &sha1_digest),
        "saml_disallowed_algorithm",
    );
}

#[test]
fn canonicalisation_with_comments_is_refused() {
    let with_comments = Signer {
        c14n: "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
        ..Signer::default()
    };
    assert_refused(
        &signed_xml(&Spec::entra(), Mode::Assertion, &with_comments),
        "saml_disallowed_algorithm",
    );
}

#[test]
fn a_signature_moved_out_of_its_fixed_position_is_refused() {
    let original = signed(&Spec::entra(), Mode::Response);
    let sig = xsw::response_signature_range(&original);
    let signature = original[sig.clone()].to_owned();
    let moved = without(&original, sig);
    let moved = swap(&moved, "</samlp:Status>", &format!("</samlp:Status>{signature}"));
    assert_refused(&moved, "saml_signature_wrapping");
    // Or under the Subject's confirmation data.
    let original = signed(&Spec::entra(), Mode::Assertion);
    let sig = xsw::signature_range(&original, 0);
    let signature = original[sig.clone()].to_owned();
    let moved = without(&original, sig);
    let moved = swap(
        &moved,
        "</SubjectConfirmation>",
        &format!("{signature}</SubjectConfirmation>"),
    );
    assert_refused(&moved, "saml_signature_wrapping");
}

#[test]
fn a_reference_to_anything_but_the_parent_is_refused() {
    // URI="" (the whole document) on the Assertion's signature.
    let xml = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        r##"URI="#_a7c3"##,
        r##"URI="_a7c3"##,
    );
    assert_refused(&xml, "saml_signature_reference");
    let xml = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        r##"<Reference URI="#_a7c3e9b1-4f2d-4e8a-9c6b-1d2e3f4a5b6c">"##,
        r#"<Reference URI="">"#,
    );
    assert_refused(&xml, "saml_signature_reference");
}

#[test]
fn two_references_in_one_signature_are_refused() {
    let xml = signed(&Spec::entra(), Mode::Assertion);
    let start = xml.find("<Reference ").unwrap();
    let end = xml.find("</Reference>").unwrap() + "</Reference>".len();
    let reference = xml[start..end].to_owned();
    let doubled = insert(&xml, end, &reference);
    assert_refused(&doubled, "saml_signature_reference");
}

#[test]
fn a_namespace_qualified_id_is_refused_as_attribute_pollution() {
    let xml = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        "<Assertion xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\" ",
        "<Assertion xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\" xmlns:x=\"urn:x\" x:ID=\"_other\" ",
    );
    assert_refused(&xml, "saml_attribute_pollution");
}

#[test]
fn a_look_alike_assertion_namespace_is_not_an_assertion() {
    let original = signed(&Spec::entra(), Mode::Response);
    let xml = swap(
        &original,
        "<Assertion xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        "<Assertion xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion:x\"",
    );
    assert_refused(&xml, "saml_no_assertion");
}

#[test]
fn a_signed_assertion_wrapped_in_a_foreign_root_is_refused() {
    // samlify#634's shape: a signed element inside an attacker's root element.
    let a = assertion(&signed(&Spec::entra(), Mode::Assertion));
    let xml = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_x\">{a}</samlp:LogoutRequest>"
    );
    assert_refused(&xml, "saml_not_a_response");
    assert_refused(&a, "saml_not_a_response");
}

// --- Parsing -----------------------------------------------------------------------------------------------

#[test]
fn a_doctype_or_entity_is_refused() {
    let xml = signed(&Spec::entra(), Mode::Assertion);
    assert_refused(&format!("<!DOCTYPE samlp:Response>{xml}"), "saml_dtd_forbidden");
    let bomb = format!(
        "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>{}",
        swap(&xml, "Ada Lovelace", "&b;")
    );
    assert_refused(&bomb, "saml_dtd_forbidden");
}

#[test]
fn a_comment_inside_a_signed_name_id_is_refused() {
    // Exclusive C14N drops comments, so the signature verifies; reading the first text node would yield
    // "user@victim.example". The message is refused before anyone reads it.
    let spec = Spec {
        raw_name_id: Some("user@victim.example<!---->.evil.example".into()),
        ..Spec::entra()
    };
    let xml = signed(&spec, Mode::Assertion);
    assert_refused(&xml, "saml_forbidden_node");
}

#[test]
fn a_processing_instruction_is_refused() {
    let xml = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        "<samlp:Status>",
        "<?evil x?><samlp:Status>",
    );
    assert_refused(&xml, "saml_forbidden_node");
}

#[test]
fn duplicate_ids_are_refused() {
    let xml = signed(&Spec::entra(), Mode::Assertion);
    let xml = swap(
        &xml,
        r#"ID="_resp-8d1f3c2a""#,
        r#"ID="_a7c3e9b1-4f2d-4e8a-9c6b-1d2e3f4a5b6c""#,
    );
    assert_refused(&xml, "saml_duplicate_id");
}

#[test]
fn oversized_and_malformed_input_is_refused_before_parsing() {
    let huge = "A".repeat(scimd_sso::saml::binding::MAX_ENCODED_LEN + 4);
    let e = verify_response(&config(), &huge, Expectation::Solicited(REQUEST_ID), now()).unwrap_err();
    assert_eq!(e.reason_code(), "saml_too_large");
    let e = verify_response(&config(), "not*base64", Expectation::Solicited(REQUEST_ID), now()).unwrap_err();
    assert_eq!(e.reason_code(), "saml_bad_base64");
    let utf16: Vec<u8> = "<x/>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .chain([0xff, 0xfe])
        .collect();
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, utf16);
    let e = verify_response(&config(), &encoded, Expectation::Solicited(REQUEST_ID), now()).unwrap_err();
    assert_eq!(e.reason_code(), "saml_not_utf8");
    let e = verify_response(
        &config(),
        &saml_idp::b64("<samlp:Response"),
        Expectation::Solicited(REQUEST_ID),
        now(),
    )
    .unwrap_err();
    assert_eq!(e.reason_code(), "saml_xml_invalid");
}

#[test]
fn a_signature_in_a_look_alike_namespace_is_not_a_signature() {
    let xml = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        r#"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">"#,
        r#"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#x">"#,
    );
    assert_refused(&xml, "saml_unexpected_element");
}

#[test]
fn transforms_outside_the_profile_are_refused() {
    let enveloped = r#"<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#;
    let xml = swap(&signed(&Spec::entra(), Mode::Assertion), enveloped, "");
    assert_refused(&xml, "saml_signature_malformed");
    let xpath =
        r#"<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><XPath>1</XPath></Transform>"#;
    let xml = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        enveloped,
        &format!("{enveloped}{xpath}"),
    );
    assert_refused(&xml, "saml_disallowed_algorithm");
}

#[test]
fn a_signature_carrying_an_object_is_refused() {
    let xml = swap(
        &signed(&Spec::entra(), Mode::Assertion),
        "</KeyInfo></Signature>",
        "</KeyInfo><Object/></Signature>",
    );
    assert_refused(&xml, "saml_signature_malformed");
}
