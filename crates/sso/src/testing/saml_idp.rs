//! The fake SAML IdP: builds what Entra ID sends (sso.md §5.2) from a template, XML-escaped, and signs it
//! with bergshamra-dsig in one of three modes (assertion only, the Entra default; response only; both).
//! The Signature sits right after the element's Issuer, exc-c14n, RSA-SHA256, SHA-256, with the signing
//! certificate in KeyInfo. `SpecBuilder` fields are plain so each test states what it changes.

use super::keys::{self, TestKey};
use crate::saml::{Expectation, SamlError, SpConfig, VerifiedAssertion, verify_response};
use base64::Engine as _;
use bergshamra_dsig::DsigContext;
use bergshamra_keys::KeysManager;
use chrono::{DateTime, SecondsFormat, TimeDelta, TimeZone, Utc};

pub const PUBLIC_URL: &str = "https://scimd.example.com";
pub const ORG: &str = "acme";
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const IDP_ENTITY_ID: &str = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/";
pub const REQUEST_ID: &str = "_0123456789abcdef0123456789abcdef";
pub const OBJECT_ID: &str = "5b1e7f0a-2f3c-4d7e-9a1b-0c2d3e4f5a6b";

pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// The instant every test runs at, unless it says otherwise.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

pub fn acs_url() -> String {
    format!("{PUBLIC_URL}/sso/saml/{ORG}/acs")
}

pub fn sp_entity_id() -> String {
    format!("{PUBLIC_URL}/sso/saml/{ORG}")
}

/// The org's connection, pinning the IdP's current certificate.
pub fn config() -> SpConfig {
    SpConfig::new(PUBLIC_URL, ORG, IDP_ENTITY_ID, &[&keys::idp().cert_pem]).unwrap()
}

pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Everything a response says. `Spec::entra()` is a correct response to `REQUEST_ID` issued at `now()`.
#[derive(Clone)]
pub struct Spec {
    pub response_id: String,
    pub assertion_id: String,
    pub response_issuer: Option<String>,
    pub assertion_issuer: String,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub recipient: String,
    pub audience: String,
    pub issue_instant: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    pub not_on_or_after: DateTime<Utc>,
    pub bearer_not_on_or_after: DateTime<Utc>,
    pub status: String,
    pub name_id: String,
    pub name_id_format: String,
    pub object_id: Option<String>,
    pub email: Option<String>,
    pub session_not_on_or_after: Option<DateTime<Utc>>,
    /// Raw XML placed into the assertion's Conditions after the AudienceRestriction.
    pub extra_condition: String,
    /// Raw XML placed inside NameID instead of the escaped `name_id` (for comment injection).
    pub raw_name_id: Option<String>,
}

impl Spec {
    pub fn entra() -> Self {
        let now = now();
        Self {
            response_id: "_resp-8d1f3c2a".into(),
            assertion_id: "_a7c3e9b1-4f2d-4e8a-9c6b-1d2e3f4a5b6c".into(),
            response_issuer: Some(IDP_ENTITY_ID.into()),
            assertion_issuer: IDP_ENTITY_ID.into(),
            destination: Some(acs_url()),
            in_response_to: Some(REQUEST_ID.into()),
            recipient: acs_url(),
            audience: sp_entity_id(),
            issue_instant: now,
            not_before: now,
            not_on_or_after: now + TimeDelta::minutes(70),
            bearer_not_on_or_after: now + TimeDelta::minutes(5),
            status: "urn:oasis:names:tc:SAML:2.0:status:Success".into(),
            name_id: "a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ0123456".into(),
            name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
            object_id: Some(OBJECT_ID.into()),
            email: Some("ada@acme.example".into()),
            session_not_on_or_after: Some(now + TimeDelta::hours(8)),
            extra_condition: String::new(),
            raw_name_id: None,
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt_attr(name: &str, value: Option<&str>) -> String {
    value
        .map(|v| format!(r#" {name}="{}""#, esc(v)))
        .unwrap_or_default()
}

pub const RESPONSE_SIG: &str = "@@RESPONSE_SIG@@";
pub const ASSERTION_SIG: &str = "@@ASSERTION_SIG@@";

/// The unsigned response, with markers where the signatures go.
pub fn template(spec: &Spec) -> String {
    let irt = spec.in_response_to.as_deref();
    let attr = |name: &str, value: &str| {
        format!(
            r#"<Attribute Name="{name}"><AttributeValue>{}</AttributeValue></Attribute>"#,
            esc(value)
        )
    };
    let mut attributes = attr("http://schemas.microsoft.com/identity/claims/tenantid", TENANT);
    if let Some(oid) = &spec.object_id {
        attributes.push_str(&attr(
            "http://schemas.microsoft.com/identity/claims/objectidentifier",
            oid,
        ));
    }
    if let Some(email) = &spec.email {
        attributes.push_str(&attr(
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            email,
        ));
    }
    attributes.push_str(&attr(
        "http://schemas.microsoft.com/identity/claims/displayname",
        "Ada Lovelace",
    ));
    let response_issuer = spec
        .response_issuer
        .as_ref()
        .map(|i| {
            format!(
                r#"<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">{}</Issuer>"#,
                esc(i)
            )
        })
        .unwrap_or_default();
    let name_id = spec.raw_name_id.clone().unwrap_or_else(|| esc(&spec.name_id));
    format!(
        concat!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{rid}" Version="2.0" "#,
            r#"IssueInstant="{ii}"{dest}{irt}>{rissuer}{RESPONSE_SIG}"#,
            r#"<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>"#,
            r#"<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="{aid}" IssueInstant="{ii}" Version="2.0">"#,
            r#"<Issuer>{aissuer}</Issuer>{ASSERTION_SIG}"#,
            r#"<Subject><NameID Format="{nidf}">{nid}</NameID>"#,
            r#"<SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#,
            r#"<SubjectConfirmationData{irt} NotOnOrAfter="{bnoa}" Recipient="{recipient}"/>"#,
            r#"</SubjectConfirmation></Subject>"#,
            r#"<Conditions NotBefore="{nb}" NotOnOrAfter="{noa}"><AudienceRestriction><Audience>{aud}</Audience>"#,
            r#"</AudienceRestriction>{extra}</Conditions>"#,
            r#"<AttributeStatement>{attributes}</AttributeStatement>"#,
            r#"<AuthnStatement AuthnInstant="{ii}"{snoa} SessionIndex="{aid}"><AuthnContext>"#,
            r#"<AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</AuthnContextClassRef>"#,
            r#"</AuthnContext></AuthnStatement></Assertion></samlp:Response>"#
        ),
        rid = esc(&spec.response_id),
        aid = esc(&spec.assertion_id),
        ii = instant(spec.issue_instant),
        dest = opt_attr("Destination", spec.destination.as_deref()),
        irt = opt_attr("InResponseTo", irt),
        rissuer = response_issuer,
        RESPONSE_SIG = RESPONSE_SIG,
        ASSERTION_SIG = ASSERTION_SIG,
        status = esc(&spec.status),
        aissuer = esc(&spec.assertion_issuer),
        nidf = esc(&spec.name_id_format),
        nid = name_id,
        bnoa = instant(spec.bearer_not_on_or_after),
        recipient = esc(&spec.recipient),
        nb = instant(spec.not_before),
        noa = instant(spec.not_on_or_after),
        aud = esc(&spec.audience),
        extra = spec.extra_condition,
        attributes = attributes,
        snoa = opt_attr(
            "SessionNotOnOrAfter",
            spec.session_not_on_or_after.map(instant).as_deref()
        ),
    )
}

/// The algorithms and key a signature is made with.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub key: &'a TestKey,
    /// The certificate put into KeyInfo (`None`: no KeyInfo).
    pub embed: Option<&'a TestKey>,
    pub signature_method: &'a str,
    pub digest_method: &'a str,
    pub c14n: &'a str,
}

impl<'a> Signer<'a> {
    pub fn with(key: &'a TestKey) -> Self {
        Self {
            key,
            embed: Some(key),
            signature_method: RSA_SHA256,
            digest_method: SHA256,
            c14n: EXC_C14N,
        }
    }
}

impl Default for Signer<'static> {
    fn default() -> Self {
        Self::with(keys::idp())
    }
}

/// A `<Signature>` template over `#id` (empty DigestValue and SignatureValue, for bergshamra to fill).
pub fn signature_template(id: &str, signer: &Signer<'_>) -> String {
    let key_info = signer
        .embed
        .map(|k| {
            format!(
                "<KeyInfo><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo>",
                k.cert_b64()
            )
        })
        .unwrap_or_default();
    format!(
        concat!(
            r#"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>"#,
            r#"<CanonicalizationMethod Algorithm="{c14n}"/><SignatureMethod Algorithm="{sm}"/>"#,
            r##"<Reference URI="#{id}"><Transforms>"##,
            r#"<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<Transform Algorithm="{c14n}"/></Transforms><DigestMethod Algorithm="{dm}"/>"#,
            r#"<DigestValue></DigestValue></Reference></SignedInfo><SignatureValue></SignatureValue>{ki}</Signature>"#
        ),
        c14n = signer.c14n,
        sm = signer.signature_method,
        dm = signer.digest_method,
        id = id,
        ki = key_info,
    )
}

/// Fill the first empty Signature template in `xml` with bergshamra.
pub fn fill(xml: &str, signer: &Signer<'_>) -> String {
    let key = if signer.signature_method.contains("hmac") {
        // The HMAC key-confusion attack: the "secret" is the IdP's public certificate.
        bergshamra_keys::loader::load_hmac_key(&signer.key.cert_der).unwrap()
    } else {
        bergshamra_keys::loader::load_pem_auto(signer.key.private_pem.as_bytes(), None).unwrap()
    };
    let mut keys = KeysManager::new();
    keys.add_key(key);
    bergshamra_dsig::sign::sign(&DsigContext::new(keys), xml).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Assertion,
    Response,
    Both,
    Unsigned,
}

/// The response for `spec`, signed in `mode` by `signer`: the XML text.
pub fn signed_xml(spec: &Spec, mode: Mode, signer: &Signer<'_>) -> String {
    let xml = template(spec);
    let xml = if matches!(mode, Mode::Assertion | Mode::Both) {
        let xml = xml.replace(ASSERTION_SIG, &signature_template(&spec.assertion_id, signer));
        let marker_free = xml.replace(RESPONSE_SIG, "");
        if mode == Mode::Both {
            // Sign the Assertion first with the marker still in place, then the Response over it.
            let signed = fill(&xml.replace(RESPONSE_SIG, "<!--R-->"), signer);
            signed.replace("<!--R-->", RESPONSE_SIG)
        } else {
            fill(&marker_free, signer)
        }
    } else {
        xml.replace(ASSERTION_SIG, "")
    };
    match mode {
        Mode::Response | Mode::Both => {
            let xml = xml.replace(RESPONSE_SIG, &signature_template(&spec.response_id, signer));
            fill(&xml, signer)
        }
        Mode::Assertion | Mode::Unsigned => xml.replace(RESPONSE_SIG, ""),
    }
}

/// An Entra-shaped response signed by the org's IdP key in `mode`.
pub fn signed(spec: &Spec, mode: Mode) -> String {
    signed_xml(spec, mode, &Signer::default())
}

/// Verifies `xml` with `config` as the answer to our request (REQUEST_ID), now.
pub fn verify_solicited(config: &SpConfig, xml: &str) -> Result<VerifiedAssertion, SamlError> {
    verify_response(config, &b64(xml), Expectation::Solicited(REQUEST_ID), now())
}

pub fn b64(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}
