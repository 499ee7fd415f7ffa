//! [`verify_response`]: the ACS pipeline of `crates/sso/README.md`, fail closed at every step. Each step hands
//! the next only what it established: the structure check names the nodes, the signature check says what is
//! covered, and the claims are read from those nodes alone.

use super::{
    Expectation, SamlError, SpConfig, VerifiedAssertion, assertion, binding, signature, structure, xml,
};
use chrono::{DateTime, Utc};

/// Verify an HTTP-POST `SAMLResponse` (the form value, base64) for one org's connection at `now`.
///
/// On success the caller still inserts the assertion ID into its replay table (S15), consumes the pending
/// request, and maps the identity to an active member of this org only (S17).
pub fn verify_response(
    config: &SpConfig,
    saml_response_b64: &str,
    expect: Expectation<'_>,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, SamlError> {
    verify_response_staged(config, saml_response_b64, expect, now).map_err(|f| f.error)
}

/// Why [`verify_response_staged`] refused, and whether the IdP's signature had verified by then: a message
/// refused before that is anyone's, and a caller should keep no lasting record of it (review H-1).
#[derive(Debug)]
pub struct VerifyFailure {
    pub error: SamlError,
    /// True when the signature verified and a claim (audience, times, InResponseTo...) was refused.
    pub signature_verified: bool,
}

/// [`verify_response`], saying at which stage it refused.
pub fn verify_response_staged(
    config: &SpConfig,
    saml_response_b64: &str,
    expect: Expectation<'_>,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, VerifyFailure> {
    let unsigned = |error| VerifyFailure {
        error,
        signature_verified: false,
    };
    let text = binding::decode_post(saml_response_b64).map_err(unsigned)?;
    let doc = xml::parse(&text).map_err(unsigned)?;
    let layout = structure::check(&doc).map_err(unsigned)?;
    let verified = signature::verify(&doc, &text, &layout, config).map_err(unsigned)?;
    assertion::check(&doc, &layout, verified, config, expect, now).map_err(|error| VerifyFailure {
        error,
        signature_verified: true,
    })
}
