//! SAML metadata, both directions.
//!
//! - [`sp_metadata`]: this org's SP `EntityDescriptor` for the admin to hand to the IdP: `SPSSODescriptor`
//!   with `AuthnRequestsSigned="false"`, `WantAssertionsSigned="true"`, the persistent and e-mail NameID
//!   formats and one HTTP-POST ACS.
//! - [`parse_idp_metadata`]: the IdP metadata an admin uploads, read into entity ID, HTTP-Redirect SSO URL and
//!   signing certificates (PEM), which the admin then confirms (S20: never trusted without that). DTDs are
//!   forbidden and the size is capped; the metadata's own signature is not checked (the admin is the trust).

use super::names::{
    BINDING_POST, BINDING_REDIRECT, DSIG, METADATA, NAMEID_EMAIL, NAMEID_PERSISTENT, PROTOCOL,
};
use super::xml::{attr, bounded, children_named, escape, is, text};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bergshamra_xml::uppsala::{self, Document, NodeId};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Entra's federation metadata is tens of KiB; anything past this is not an IdP's metadata.
pub const MAX_METADATA_LEN: usize = 1024 * 1024;

/// The SP metadata XML for one org (`application/samlmetadata+xml`).
pub fn sp_metadata(entity_id: &str, acs_url: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<md:EntityDescriptor xmlns:md="{md}" entityID="{entity}">"#,
            r#"<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" "#,
            r#"protocolSupportEnumeration="{protocol}">"#,
            r#"<md:NameIDFormat>{persistent}</md:NameIDFormat>"#,
            r#"<md:NameIDFormat>{email}</md:NameIDFormat>"#,
            r#"<md:AssertionConsumerService Binding="{post}" Location="{acs}" index="0" isDefault="true"/>"#,
            r#"</md:SPSSODescriptor></md:EntityDescriptor>"#,
            "\n"
        ),
        md = METADATA,
        entity = escape(entity_id),
        protocol = PROTOCOL,
        persistent = NAMEID_PERSISTENT,
        email = NAMEID_EMAIL,
        post = BINDING_POST,
        acs = escape(acs_url),
    )
}

/// What an IdP's metadata says, for the admin to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// The `SingleSignOnService` location for the HTTP-Redirect binding.
    pub sso_url: String,
    /// Signing certificates (`KeyDescriptor use="signing"` or without `use`), as PEM, in document order.
    pub signing_certificates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    #[error("the metadata is larger than {MAX_METADATA_LEN} bytes")]
    TooLarge,
    #[error("the metadata contains a DOCTYPE or entity declaration")]
    DtdForbidden,
    #[error("the metadata is not well-formed XML: {0}")]
    XmlInvalid(String),
    #[error("the document is not SAML metadata with exactly one IdP EntityDescriptor")]
    NotIdpMetadata,
    #[error("the metadata has no entityID")]
    NoEntityId,
    #[error("the IdP offers no HTTP-Redirect SingleSignOnService")]
    NoRedirectSso,
    #[error("the metadata holds no signing certificate")]
    NoSigningCertificate,
    #[error("a signing certificate in the metadata is not a valid X.509 certificate")]
    BadCertificate,
}

/// Read an IdP's metadata (an `EntityDescriptor`, or an `EntitiesDescriptor` with exactly one IdP in it).
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata, MetadataError> {
    if xml.len() > MAX_METADATA_LEN {
        return Err(MetadataError::TooLarge);
    }
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(MetadataError::DtdForbidden);
    }
    let doc = uppsala::Parser::new()
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .with_max_depth(64)
        .parse(xml)
        .map_err(|e| MetadataError::XmlInvalid(bounded(&e.to_string(), 200)))?;
    let root = doc.document_element().ok_or(MetadataError::NotIdpMetadata)?;
    let (entity, idp) = find_idp(&doc, root)?;
    let entity_id = attr(&doc, entity, "entityID")
        .filter(|e| !e.trim().is_empty())
        .ok_or(MetadataError::NoEntityId)?;
    let sso_url = children_named(&doc, idp, METADATA, "SingleSignOnService")
        .into_iter()
        .filter(|&s| attr(&doc, s, "Binding") == Some(BINDING_REDIRECT))
        .find_map(|s| attr(&doc, s, "Location"))
        .ok_or(MetadataError::NoRedirectSso)?;
    let mut signing_certificates = Vec::new();
    for descriptor in children_named(&doc, idp, METADATA, "KeyDescriptor") {
        if attr(&doc, descriptor, "use").is_some_and(|u| u != "signing") {
            continue;
        }
        for key_info in children_named(&doc, descriptor, DSIG, "KeyInfo") {
            for data in children_named(&doc, key_info, DSIG, "X509Data") {
                for cert in children_named(&doc, data, DSIG, "X509Certificate") {
                    let pem = to_pem(&doc, cert)?;
                    if !signing_certificates.contains(&pem) {
                        signing_certificates.push(pem);
                    }
                }
            }
        }
    }
    if signing_certificates.is_empty() {
        return Err(MetadataError::NoSigningCertificate);
    }
    Ok(IdpMetadata {
        entity_id: entity_id.to_owned(),
        sso_url: sso_url.to_owned(),
        signing_certificates,
    })
}

/// The EntityDescriptor holding the one SAML 2.0 IDPSSODescriptor, and that descriptor.
fn find_idp(doc: &Document<'_>, root: NodeId) -> Result<(NodeId, NodeId), MetadataError> {
    let entities = if is(doc, root, METADATA, "EntityDescriptor") {
        vec![root]
    } else if is(doc, root, METADATA, "EntitiesDescriptor") {
        children_named(doc, root, METADATA, "EntityDescriptor")
    } else {
        return Err(MetadataError::NotIdpMetadata);
    };
    let mut found = Vec::new();
    for entity in entities {
        for idp in children_named(doc, entity, METADATA, "IDPSSODescriptor") {
            let saml2 = attr(doc, idp, "protocolSupportEnumeration")
                .is_some_and(|p| p.split_whitespace().any(|u| u == PROTOCOL));
            if saml2 {
                found.push((entity, idp));
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        _ => Err(MetadataError::NotIdpMetadata),
    }
}

fn to_pem(doc: &Document<'_>, cert: NodeId) -> Result<String, MetadataError> {
    let b64: String = text(doc, cert)
        .ok_or(MetadataError::BadCertificate)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(&b64).map_err(|_| MetadataError::BadCertificate)?;
    X509Certificate::from_der(&der).map_err(|_| MetadataError::BadCertificate)?;
    let body = STANDARD.encode(&der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    Ok(pem)
}
