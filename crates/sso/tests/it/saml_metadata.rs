//! SP metadata out, IdP metadata in.

use bergshamra_xml::uppsala;
use scimd_sso::saml::metadata::{self, MetadataError};
use scimd_sso::testing::keys;
use scimd_sso::testing::saml_idp::{IDP_ENTITY_ID, acs_url, sp_entity_id};

#[test]
fn sp_metadata_names_the_org_entity_and_one_post_acs() {
    let xml = metadata::sp_metadata(&sp_entity_id(), &acs_url());
    let doc = uppsala::Parser::new().with_forbid_dtd(true).parse(&xml).unwrap();
    let root = doc.document_element().unwrap();
    let md = "urn:oasis:names:tc:SAML:2.0:metadata";
    assert!(doc.element(root).unwrap().matches_name_ns(md, "EntityDescriptor"));
    assert_eq!(doc.get_attribute(root, "entityID"), Some(sp_entity_id().as_str()));
    let sp = doc
        .first_child_element_by_name_ns(root, md, "SPSSODescriptor")
        .unwrap();
    assert_eq!(doc.get_attribute(sp, "WantAssertionsSigned"), Some("true"));
    assert_eq!(doc.get_attribute(sp, "AuthnRequestsSigned"), Some("false"));
    assert_eq!(
        doc.get_attribute(sp, "protocolSupportEnumeration"),
        Some("urn:oasis:names:tc:SAML:2.0:protocol")
    );
    let formats: Vec<String> = doc
        .child_elements_by_name_ns(sp, md, "NameIDFormat")
        .into_iter()
        .map(|f| doc.text_content_deep(f))
        .collect();
    assert!(formats.contains(&"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".to_owned()));
    let acs = doc.child_elements_by_name_ns(sp, md, "AssertionConsumerService");
    assert_eq!(acs.len(), 1);
    assert_eq!(
        doc.get_attribute(acs[0], "Binding"),
        Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
    );
    assert_eq!(doc.get_attribute(acs[0], "Location"), Some(acs_url().as_str()));
}

#[test]
fn sp_metadata_escapes_what_it_is_given() {
    let xml = metadata::sp_metadata(
        "https://x.example/sso/saml/a\"b<c",
        "https://x.example/acs?a=1&b=2",
    );
    assert!(xml.contains("a&quot;b&lt;c"));
    assert!(xml.contains("a=1&amp;b=2"));
    assert!(uppsala::parse(&xml).is_ok());
}

fn entra_like_metadata(certs: &[&str]) -> String {
    let descriptors: String = certs
        .iter()
        .map(|c| {
            format!(
                "<KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data>\
                 <X509Certificate>\n{c}\n</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EntityDescriptor ID=\"_m\" entityID=\"{IDP_ENTITY_ID}\" \
         xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\">\
         <RoleDescriptor xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"fed:SecurityTokenServiceType\"/>\
         <IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{descriptors}\
         <KeyDescriptor use=\"encryption\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data>\
         <X509Certificate>{enc}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>\
         <SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://login.microsoftonline.com/t/saml2\"/>\
         <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://login.microsoftonline.com/t/saml2/post\"/>\
         <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://login.microsoftonline.com/t/saml2\"/>\
         </IDPSSODescriptor></EntityDescriptor>",
        enc = keys::attacker().cert_b64(),
    )
}

#[test]
fn idp_metadata_yields_entity_redirect_url_and_signing_certificates() {
    let xml = entra_like_metadata(&[&keys::idp().cert_b64(), &keys::idp_next().cert_b64()]);
    let got = metadata::parse_idp_metadata(&xml).unwrap();
    assert_eq!(got.entity_id, IDP_ENTITY_ID);
    assert_eq!(got.sso_url, "https://login.microsoftonline.com/t/saml2");
    assert_eq!(
        got.signing_certificates.len(),
        2,
        "the encryption certificate is not a signing one"
    );
    // The PEM it gives is what SpConfig pins.
    let config = scimd_sso::saml::SpConfig::new(
        "https://scimd.example.com",
        "acme",
        &got.entity_id,
        &[&got.signing_certificates[0], &got.signing_certificates[1]],
    );
    assert!(config.is_ok(), "{config:?}");
    assert_eq!(
        got.signing_certificates[0].replace('\n', ""),
        keys::idp().cert_pem.replace('\n', ""),
        "same certificate, same PEM"
    );
}

#[test]
fn idp_metadata_with_a_doctype_is_refused() {
    let xml = format!(
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        entra_like_metadata(&[&keys::idp().cert_b64()])
    );
    assert_eq!(
        metadata::parse_idp_metadata(&xml),
        Err(MetadataError::DtdForbidden)
    );
}

#[test]
fn idp_metadata_is_size_capped() {
    let xml = format!(
        "{}{}",
        entra_like_metadata(&[&keys::idp().cert_b64()]),
        " ".repeat(metadata::MAX_METADATA_LEN)
    );
    assert_eq!(metadata::parse_idp_metadata(&xml), Err(MetadataError::TooLarge));
}

#[test]
fn idp_metadata_without_what_is_needed_is_refused() {
    // Only an encryption certificate: nothing to verify with.
    assert_eq!(
        metadata::parse_idp_metadata(&entra_like_metadata(&[])),
        Err(MetadataError::NoSigningCertificate)
    );
    let no_redirect = entra_like_metadata(&[&keys::idp().cert_b64()]).replace(
        "<SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://login.microsoftonline.com/t/saml2\"/>",
        "",
    );
    assert_eq!(
        metadata::parse_idp_metadata(&no_redirect),
        Err(MetadataError::NoRedirectSso)
    );
    let garbage = entra_like_metadata(&["bm90IGEgY2VydGlmaWNhdGU="]);
    assert_eq!(
        metadata::parse_idp_metadata(&garbage),
        Err(MetadataError::BadCertificate)
    );
    assert_eq!(
        metadata::parse_idp_metadata("<foo/>"),
        Err(MetadataError::NotIdpMetadata)
    );
}
