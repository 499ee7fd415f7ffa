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
    let text = binding::decode_post(saml_response_b64)?;
    let doc = xml::parse(&text)?;
    let layout = structure::check(&doc)?;
    let verified = signature::verify(&doc, &text, &layout, config)?;
    assertion::check(&doc, &layout, verified, config, expect, now)
}
