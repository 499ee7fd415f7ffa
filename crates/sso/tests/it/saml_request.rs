//! The SP-initiated AuthnRequest, read back the way the fake IdP (and Entra) reads it.

use bergshamra_xml::uppsala;
use scimd_sso::saml::authn_request::{self, AuthnRequestError};
use scimd_sso::saml::binding;
use scimd_sso::testing::saml_idp::{acs_url, config, now, sp_entity_id};
use std::collections::HashMap;

const SSO_URL: &str = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2";

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

#[test]
fn the_request_is_deflated_base64_with_relay_state_and_no_subject() {
    let built = authn_request::build(&config(), SSO_URL, "h4nd1e", now()).unwrap();
    assert!(
        built.redirect_url.starts_with(&format!("{SSO_URL}?SAMLRequest=")),
        "{}",
        built.redirect_url
    );
    let params = query(&built.redirect_url);
    assert_eq!(params["RelayState"], "h4nd1e");
    let xml = binding::decode_redirect(&params["SAMLRequest"]).unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let root = doc.document_element().unwrap();
    let el = doc.element(root).unwrap();
    assert!(el.matches_name_ns("urn:oasis:names:tc:SAML:2.0:protocol", "AuthnRequest"));
    assert_eq!(el.get_attribute("ID"), Some(built.request_id.as_str()));
    assert_eq!(el.get_attribute("Version"), Some("2.0"));
    assert_eq!(el.get_attribute("IssueInstant"), Some("2026-12-01T12:00:00Z"));
    assert_eq!(el.get_attribute("Destination"), Some(SSO_URL));
    assert_eq!(
        el.get_attribute("AssertionConsumerServiceURL"),
        Some(acs_url().as_str())
    );
    assert_eq!(
        el.get_attribute("ProtocolBinding"),
        Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
    );
    let issuer = doc
        .first_child_element_by_name_ns(root, "urn:oasis:names:tc:SAML:2.0:assertion", "Issuer")
        .unwrap();
    assert_eq!(doc.text_content_deep(issuer), sp_entity_id());
    assert!(
        doc.get_elements_by_tag_name("Subject").is_empty(),
        "Entra refuses a Subject"
    );
}

#[test]
fn request_ids_are_underscore_and_32_hex_and_fresh() {
    let a = authn_request::build(&config(), SSO_URL, "r", now())
        .unwrap()
        .request_id;
    let b = authn_request::build(&config(), SSO_URL, "r", now())
        .unwrap()
        .request_id;
    assert_ne!(a, b);
    for id in [a, b] {
        assert_eq!(id.len(), 33);
        assert!(id.starts_with('_'));
        assert!(
            id[1..]
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{id}"
        );
    }
}

#[test]
fn an_sso_url_with_a_query_keeps_it() {
    let built = authn_request::build(&config(), "https://idp.example/sso?tenant=x", "r", now()).unwrap();
    let params = query(&built.redirect_url);
    assert_eq!(params["tenant"], "x");
    assert!(params.contains_key("SAMLRequest"));
}

#[test]
fn plain_http_is_only_for_loopback_and_relay_state_is_bounded() {
    assert_eq!(
        authn_request::build(&config(), "http://idp.example/sso", "r", now()).unwrap_err(),
        AuthnRequestError::BadSsoUrl
    );
    assert!(authn_request::build(&config(), "http://127.0.0.1:8080/sso", "r", now()).is_ok());
    assert!(authn_request::build(&config(), "http://[::1]:8080/sso", "r", now()).is_ok());
    assert_eq!(
        authn_request::build(&config(), SSO_URL, &"x".repeat(81), now()).unwrap_err(),
        AuthnRequestError::BadRelayState
    );
    assert!(authn_request::build(&config(), SSO_URL, &"x".repeat(80), now()).is_ok());
}
