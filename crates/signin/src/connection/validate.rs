//! Validation of SSO settings, field by field, so that the admin pages can show each error next to its field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use x509_parser::pem::Pem;

const MAX_ENTITY_ID: usize = 1024;
const MAX_URL: usize = 2048;
const MAX_PEM: usize = 64 * 1024;
const MAX_SECRET: usize = 1024;

/// One refused field. The variant names the field; the message says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("entity ID: {0}")]
    EntityId(String),
    #[error("SSO URL: {0}")]
    SsoUrl(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("next certificate: {0}")]
    NextCertificate(String),
    #[error("tenant ID: {0}")]
    TenantId(String),
    #[error("client ID: {0}")]
    ClientId(String),
    #[error("client secret: {0}")]
    ClientSecret(String),
}

impl FieldError {
    /// The form field's name (`entity_id`, `sso_url`, `certificate`, `next_certificate`, `tenant_id`,
    /// `client_id`, `client_secret`).
    pub fn field(&self) -> &'static str {
        match self {
            FieldError::EntityId(_) => "entity_id",
            FieldError::SsoUrl(_) => "sso_url",
            FieldError::Certificate(_) => "certificate",
            FieldError::NextCertificate(_) => "next_certificate",
            FieldError::TenantId(_) => "tenant_id",
            FieldError::ClientId(_) => "client_id",
            FieldError::ClientSecret(_) => "client_secret",
        }
    }

    /// What is wrong, without the field's name.
    pub fn message(&self) -> &str {
        match self {
            FieldError::EntityId(m)
            | FieldError::SsoUrl(m)
            | FieldError::Certificate(m)
            | FieldError::NextCertificate(m)
            | FieldError::TenantId(m)
            | FieldError::ClientId(m)
            | FieldError::ClientSecret(m) => m,
        }
    }
}

/// Every refused field of one submission (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// The error for a field, if that field was refused.
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field() == field)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

/// What the pages show of a signing certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub subject: String,
    /// SHA-256 of the DER encoding, as colon-separated upper-case hex (as IdPs display it).
    pub fingerprint_sha256: String,
    pub not_after: DateTime<Utc>,
}

pub(crate) fn entity_id(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::EntityId("is required".into()));
    }
    if value.len() > MAX_ENTITY_ID {
        return Err(FieldError::EntityId(format!(
            "must be at most {MAX_ENTITY_ID} characters"
        )));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::EntityId(
            "must not contain spaces or control characters".into(),
        ));
    }
    Ok(value.to_owned())
}

pub(crate) fn sso_url(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::SsoUrl("is required".into()));
    }
    if value.len() > MAX_URL {
        return Err(FieldError::SsoUrl(format!(
            "must be at most {MAX_URL} characters"
        )));
    }
    let url = url::Url::parse(value).map_err(|e| FieldError::SsoUrl(format!("is not a valid URL ({e})")))?;
    // Plain http only to this machine (a test or a local IdP): a browser's AuthnRequest must not travel in
    // the clear.
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(FieldError::SsoUrl("must start with https://".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::SsoUrl("must name a host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::SsoUrl("must not contain credentials".into()));
    }
    Ok(url.to_string())
}

/// Parses exactly one PEM `CERTIFICATE`, refuses it if it has expired, and summarises it.
pub(crate) fn certificate(
    pem_text: &str,
    now: DateTime<Utc>,
) -> Result<(String, CertificateSummary), FieldError> {
    let err = |m: &str| FieldError::Certificate(m.to_owned());
    let text = pem_text.trim();
    if text.is_empty() {
        return Err(err("is required"));
    }
    if text.len() > MAX_PEM {
        return Err(err("is too large"));
    }
    let blocks: Vec<Pem> = Pem::iter_from_buffer(text.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| err("is not PEM text (expected -----BEGIN CERTIFICATE-----)"))?;
    let [block] = blocks.as_slice() else {
        return Err(match blocks.len() {
            0 => err("is not PEM text (expected -----BEGIN CERTIFICATE-----)"),
            n => FieldError::Certificate(format!("expected one certificate, found {n}")),
        });
    };
    if block.label != "CERTIFICATE" {
        return Err(FieldError::Certificate(format!(
            "expected a CERTIFICATE, found a {} block",
            block.label
        )));
    }
    let cert = block
        .parse_x509()
        .map_err(|_| err("is not a valid X.509 certificate"))?;
    let not_after = DateTime::<Utc>::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| err("has an expiry date out of range"))?;
    if not_after <= now {
        return Err(FieldError::Certificate(format!(
            "expired on {}",
            not_after.format("%Y-%m-%d")
        )));
    }
    let digest = Sha256::digest(&block.contents);
    let fingerprint_sha256 = digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let summary = CertificateSummary {
        subject: cert.subject().to_string(),
        fingerprint_sha256,
        not_after,
    };
    Ok((text.to_owned(), summary))
}

pub(crate) fn tenant_id(raw: &str) -> Result<String, FieldError> {
    uuid(raw).map_err(FieldError::TenantId)
}

pub(crate) fn client_id(raw: &str) -> Result<String, FieldError> {
    uuid(raw).map_err(FieldError::ClientId)
}

fn uuid(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("is required".into());
    }
    uuid::Uuid::try_parse(value)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| "must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)".into())
}

pub(crate) fn client_secret(raw: &str) -> Result<(), FieldError> {
    if raw.trim().is_empty() {
        return Err(FieldError::ClientSecret("is required".into()));
    }
    if raw.len() > MAX_SECRET {
        return Err(FieldError::ClientSecret(format!(
            "must be at most {MAX_SECRET} characters"
        )));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::ClientSecret(
            "must not contain control characters".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sso_urls_must_be_https_without_credentials() {
        assert_eq!(
            sso_url(" https://idp.example.com/sso ").unwrap(),
            "https://idp.example.com/sso"
        );
        assert!(matches!(
            sso_url("http://idp.example.com/sso"),
            Err(FieldError::SsoUrl(_))
        ));
        assert!(matches!(
            sso_url("http://127.0.0.2.example.com/sso"),
            Err(FieldError::SsoUrl(_))
        ));
        assert_eq!(
            sso_url("http://127.0.0.1:8080/sso").unwrap(),
            "http://127.0.0.1:8080/sso"
        );
        assert!(matches!(
            sso_url("https://u:p@idp.example.com/"),
            Err(FieldError::SsoUrl(_))
        ));
        assert!(matches!(
            sso_url("javascript:alert(1)"),
            Err(FieldError::SsoUrl(_))
        ));
        assert!(matches!(sso_url(""), Err(FieldError::SsoUrl(_))));
    }

    #[test]
    fn ids_must_be_uuids_and_are_normalised() {
        assert_eq!(
            tenant_id("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap(),
            "6f9619ff-8b86-d011-b42d-00c04fc964ff"
        );
        assert!(matches!(tenant_id("contoso"), Err(FieldError::TenantId(_))));
        assert!(matches!(client_id(""), Err(FieldError::ClientId(_))));
    }

    #[test]
    fn entity_ids_and_secrets_are_checked() {
        assert!(entity_id("https://idp.example.com/metadata").is_ok());
        assert!(matches!(entity_id("a b"), Err(FieldError::EntityId(_))));
        assert!(client_secret("abc~DEF").is_ok());
        assert!(matches!(client_secret("  "), Err(FieldError::ClientSecret(_))));
        assert!(matches!(client_secret("a\nb"), Err(FieldError::ClientSecret(_))));
    }

    #[test]
    fn certificates_that_are_not_pem_are_refused() {
        let now = Utc::now();
        assert!(matches!(certificate("", now), Err(FieldError::Certificate(_))));
        assert!(matches!(
            certificate("hello", now),
            Err(FieldError::Certificate(_))
        ));
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            certificate(garbage, now),
            Err(FieldError::Certificate(_))
        ));
    }
}
