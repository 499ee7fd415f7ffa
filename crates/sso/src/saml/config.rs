//! [`SpConfig`]: everything the ACS needs to know about one org's SAML connection. Built once per request
//! from the stored connection; building it validates the pinned certificates, so a connection without a
//! usable certificate cannot verify anything (fail closed, S9). The certificates come only from the admin
//! form (S20), never from the message or from metadata fetched at run time.

use chrono::TimeDelta;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// The allowed clock skew when none is configured.
pub const DEFAULT_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(3);
/// The largest skew accepted (Core errata E92: 3–5 minutes).
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);
/// RSA keys below this size are refused (S7).
const MIN_RSA_BITS: usize = 2048;

/// Why a connection's settings cannot be used to build an [`SpConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpConfigError {
    #[error("the public URL must be an absolute http(s) URL")]
    BadPublicUrl,
    #[error("the org segment must be non-empty and URL-safe")]
    BadOrg,
    #[error("the IdP entity ID is empty")]
    EmptyIdpEntityId,
    #[error("at least one IdP signing certificate is required")]
    NoCertificate,
    #[error("at most two IdP signing certificates (current and next) may be pinned")]
    TooManyCertificates,
    #[error("IdP certificate {index} is not a PEM X.509 certificate")]
    BadCertificate { index: usize },
    #[error("IdP certificate {index} does not hold an RSA key of at least 2048 bits")]
    WeakCertificate { index: usize },
    #[error("the clock skew must be between 0 and 5 minutes")]
    BadClockSkew,
}

/// A pinned IdP certificate: the DER bytes (compared with any `X509Certificate` in the message) and the
/// PEM as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PinnedCertificate {
    pub(crate) der: Vec<u8>,
}

/// One org's SAML SP settings.
#[derive(Debug, Clone)]
pub struct SpConfig {
    sp_entity_id: String,
    acs_url: String,
    idp_entity_id: String,
    certificates: Vec<PinnedCertificate>,
    clock_skew: TimeDelta,
    allow_unsolicited: bool,
}

impl SpConfig {
    /// `public_url` is scimd's public base URL (a trailing `/` is ignored) and `org` the org's path segment:
    /// the SP entity ID is `{public_url}/sso/saml/{org}` and the ACS `{public_url}/sso/saml/{org}/acs`, so every
    /// assertion's Audience is bound to one org. `idp_certificates_pem` holds the current certificate and
    /// optionally the next one (rollover); either verifies.
    pub fn new(
        public_url: &str,
        org: &str,
        idp_entity_id: &str,
        idp_certificates_pem: &[&str],
    ) -> Result<Self, SpConfigError> {
        let base = public_url.trim_end_matches('/');
        let parsed = url::Url::parse(base).map_err(|_| SpConfigError::BadPublicUrl)?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(SpConfigError::BadPublicUrl);
        }
        if org.is_empty()
            || !org
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(SpConfigError::BadOrg);
        }
        if idp_entity_id.trim().is_empty() {
            return Err(SpConfigError::EmptyIdpEntityId);
        }
        let certificates = match idp_certificates_pem.len() {
            0 => return Err(SpConfigError::NoCertificate),
            1 | 2 => idp_certificates_pem
                .iter()
                .enumerate()
                .map(|(index, pem)| pin(index, pem))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(SpConfigError::TooManyCertificates),
        };
        let sp_entity_id = format!("{base}/sso/saml/{org}");
        Ok(Self {
            acs_url: format!("{sp_entity_id}/acs"),
            sp_entity_id,
            idp_entity_id: idp_entity_id.to_owned(),
            certificates,
            clock_skew: DEFAULT_CLOCK_SKEW,
            allow_unsolicited: false,
        })
    }

    /// Override the allowed clock skew (default 3 minutes, at most 5).
    pub fn with_clock_skew(mut self, skew: TimeDelta) -> Result<Self, SpConfigError> {
        if skew < TimeDelta::zero() || skew > MAX_CLOCK_SKEW {
            return Err(SpConfigError::BadClockSkew);
        }
        self.clock_skew = skew;
        Ok(self)
    }

    /// Accept IdP-initiated (unsolicited) responses; off by default because they widen login CSRF (S12).
    pub fn with_allow_unsolicited(mut self, allow: bool) -> Self {
        self.allow_unsolicited = allow;
        self
    }

    pub fn sp_entity_id(&self) -> &str {
        &self.sp_entity_id
    }

    pub fn acs_url(&self) -> &str {
        &self.acs_url
    }

    pub fn idp_entity_id(&self) -> &str {
        &self.idp_entity_id
    }

    pub fn clock_skew(&self) -> TimeDelta {
        self.clock_skew
    }

    pub fn allow_unsolicited(&self) -> bool {
        self.allow_unsolicited
    }

    pub(crate) fn certificates(&self) -> &[PinnedCertificate] {
        &self.certificates
    }
}

fn pin(index: usize, pem: &str) -> Result<PinnedCertificate, SpConfigError> {
    let bad = SpConfigError::BadCertificate { index };
    let (rest, pem) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes()).map_err(|_| bad.clone())?;
    if pem.label != "CERTIFICATE" || !rest.iter().all(u8::is_ascii_whitespace) {
        return Err(bad);
    }
    let (_, cert) = X509Certificate::from_der(&pem.contents).map_err(|_| bad.clone())?;
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() >= MIN_RSA_BITS => {}
        _ => return Err(SpConfigError::WeakCertificate { index }),
    }
    // The verifier loads the same DER; make sure it can before the connection is considered usable.
    bergshamra_keys::loader::load_x509_cert_der(&pem.contents).map_err(|_| bad)?;
    Ok(PinnedCertificate { der: pem.contents })
}
