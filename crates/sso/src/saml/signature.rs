//! The signatures: their shape and algorithms are checked before any crypto (S5, S6), the certificate in
//! `KeyInfo` (if any) must be a pinned one (S7), and then bergshamra verifies every signature with a pinned
//! key only, on the already-parsed document (S8). A signature counts only if it is valid, has exactly one
//! locally digested reference, and that reference resolved to the signature's own parent element.

use super::SamlError;
use super::config::{PinnedCertificate, SpConfig};
use super::names::{DIGEST_METHODS, DSIG, ENVELOPED, EXC_C14N, SIGNATURE_METHODS};
use super::structure::Layout;
use super::xml::{attr, child_elements, children_named, is, text};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bergshamra_dsig::{DsigContext, VerifyResult};
use bergshamra_keys::KeysManager;
use bergshamra_xml::uppsala::{Document, NodeId};

/// Which pinned certificate verified the message: `Primary` is the first configured, `Secondary` the
/// rollover one. The admin page can use it to tell when the IdP has switched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateSlot {
    Primary,
    Secondary,
}

/// What the signatures cover, once verified.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verified {
    pub(crate) response_signed: bool,
    pub(crate) slot: CertificateSlot,
}

pub(crate) fn verify(
    doc: &Document<'_>,
    xml: &str,
    layout: &Layout,
    config: &SpConfig,
) -> Result<Verified, SamlError> {
    let signatures: Vec<(NodeId, NodeId)> = [
        layout.response_signature.map(|s| (s, layout.response)),
        layout.assertion_signature.map(|s| (s, layout.assertion)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if signatures.is_empty() {
        return Err(SamlError::Unsigned);
    }
    let mut embedded = Vec::new();
    for &(signature, parent) in &signatures {
        check_shape(doc, signature, parent)?;
        embedded.extend(embedded_certificates(doc, signature)?);
    }
    let pinned = config.certificates();
    let candidates = candidate_slots(pinned, &embedded)?;

    let mut all_valid_wrong_target = false;
    for index in candidates {
        let Some(cert) = pinned.get(index) else { continue };
        match verify_with(doc, xml, cert, &signatures)? {
            Outcome::Covered => {
                let slot = if index == 0 {
                    CertificateSlot::Primary
                } else {
                    CertificateSlot::Secondary
                };
                return Ok(Verified {
                    response_signed: layout.response_signature.is_some(),
                    slot,
                });
            }
            Outcome::WrongTarget => all_valid_wrong_target = true,
            Outcome::Invalid => {}
        }
    }
    Err(if all_valid_wrong_target {
        SamlError::SignatureReference
    } else {
        SamlError::SignatureInvalid
    })
}

/// Only the pinned certificates that the message names (if it names any) are tried.
fn candidate_slots(pinned: &[PinnedCertificate], embedded: &[Vec<u8>]) -> Result<Vec<usize>, SamlError> {
    if embedded.is_empty() {
        return Ok((0..pinned.len()).collect());
    }
    let mut slots = Vec::new();
    for der in embedded {
        let index = pinned
            .iter()
            .position(|p| p.der == *der)
            .ok_or(SamlError::UntrustedCertificate)?;
        if !slots.contains(&index) {
            slots.push(index);
        }
    }
    Ok(slots)
}

enum Outcome {
    Covered,
    WrongTarget,
    Invalid,
}

fn verify_with(
    doc: &Document<'_>,
    xml: &str,
    cert: &PinnedCertificate,
    signatures: &[(NodeId, NodeId)],
) -> Result<Outcome, SamlError> {
    let key =
        bergshamra_keys::loader::load_x509_cert_der(&cert.der).map_err(|_| SamlError::SignatureInvalid)?;
    let mut keys = KeysManager::new();
    keys.add_key(key);
    // `new` is the hardened profile (trusted keys only, strict reference positions, digests required); it is
    // restated so a change of defaults upstream cannot loosen it. `insecure` only skips X.509 chain and
    // validity checks, which mean nothing for a certificate pinned by the admin.
    let ctx = DsigContext::new(keys)
        .with_trusted_keys_only(true)
        .with_strict_verification(true)
        .with_require_reference_digests(true)
        .with_insecure(true);
    let results = bergshamra_dsig::verify::verify_all_document_with_source(&ctx, doc, Some(xml))
        .map_err(|_| SamlError::SignatureInvalid)?;
    if results.len() != signatures.len() {
        return Ok(Outcome::Invalid);
    }
    let mut wrong_target = false;
    for result in &results {
        let VerifyResult::Valid {
            signature_node,
            references,
            ..
        } = result
        else {
            return Ok(Outcome::Invalid);
        };
        let Some(&(_, parent)) = signatures.iter().find(|(s, _)| s == signature_node) else {
            return Ok(Outcome::Invalid);
        };
        let covers_parent = matches!(references.as_slice(),
            [only] if only.digest_verified && only.resolved_node == Some(parent));
        if !covers_parent {
            wrong_target = true;
        }
    }
    Ok(if wrong_target {
        Outcome::WrongTarget
    } else {
        Outcome::Covered
    })
}

/// `SignedInfo SignatureValue KeyInfo?`, exc-c14n, RSA-SHA2, one Reference to `#<parent ID>` with the
/// enveloped transform and at most exc-c14n besides, SHA-2 digest. Checked before any crypto.
fn check_shape(doc: &Document<'_>, signature: NodeId, parent: NodeId) -> Result<(), SamlError> {
    let children = child_elements(doc, signature);
    let names: Vec<bool> = children.iter().map(|&c| is(doc, c, DSIG, "KeyInfo")).collect();
    let shape_ok = match children.as_slice() {
        [si, sv] => is(doc, *si, DSIG, "SignedInfo") && is(doc, *sv, DSIG, "SignatureValue"),
        [si, sv, _] => is(doc, *si, DSIG, "SignedInfo") && is(doc, *sv, DSIG, "SignatureValue") && names[2],
        _ => false,
    };
    if !shape_ok {
        return Err(SamlError::SignatureMalformed(
            "Signature children are not SignedInfo, SignatureValue, KeyInfo",
        ));
    }
    let signed_info = children[0];
    let si_children = child_elements(doc, signed_info);
    let [c14n, method, references @ ..] = si_children.as_slice() else {
        return Err(SamlError::SignatureMalformed("SignedInfo is incomplete"));
    };
    if !is(doc, *c14n, DSIG, "CanonicalizationMethod") || !is(doc, *method, DSIG, "SignatureMethod") {
        return Err(SamlError::SignatureMalformed("SignedInfo children out of order"));
    }
    allowed(doc, *c14n, &[EXC_C14N])?;
    allowed(doc, *method, &SIGNATURE_METHODS)?;
    if !child_elements(doc, *method).is_empty() {
        return Err(SamlError::SignatureMalformed("SignatureMethod has parameters"));
    }
    let [reference] = references else {
        return Err(SamlError::SignatureReference);
    };
    if !is(doc, *reference, DSIG, "Reference") {
        return Err(SamlError::SignatureMalformed(
            "SignedInfo holds something other than a Reference",
        ));
    }
    let parent_id = attr(doc, parent, "ID").unwrap_or_default();
    if attr(doc, *reference, "URI") != Some(format!("#{parent_id}").as_str()) || parent_id.is_empty() {
        return Err(SamlError::SignatureReference);
    }
    check_reference(doc, *reference)
}

fn check_reference(doc: &Document<'_>, reference: NodeId) -> Result<(), SamlError> {
    let children = child_elements(doc, reference);
    let [transforms, digest, value] = children.as_slice() else {
        return Err(SamlError::SignatureMalformed(
            "Reference is not Transforms, DigestMethod, DigestValue",
        ));
    };
    if !is(doc, *transforms, DSIG, "Transforms")
        || !is(doc, *digest, DSIG, "DigestMethod")
        || !is(doc, *value, DSIG, "DigestValue")
    {
        return Err(SamlError::SignatureMalformed("Reference children out of order"));
    }
    let mut seen = Vec::new();
    for transform in child_elements(doc, *transforms) {
        if !is(doc, transform, DSIG, "Transform") {
            return Err(SamlError::SignatureMalformed(
                "Transforms holds something other than a Transform",
            ));
        }
        let uri = allowed(doc, transform, &[ENVELOPED, EXC_C14N])?;
        // exc-c14n may carry an InclusiveNamespaces PrefixList; the enveloped transform takes no parameters.
        let params_ok = child_elements(doc, transform)
            .iter()
            .all(|&p| uri == EXC_C14N && is(doc, p, EXC_C14N, "InclusiveNamespaces"));
        if !params_ok || seen.contains(&uri) {
            return Err(SamlError::SignatureMalformed(
                "unexpected transform parameters or repeated transform",
            ));
        }
        seen.push(uri);
    }
    if seen.first() != Some(&ENVELOPED) {
        return Err(SamlError::SignatureMalformed(
            "the enveloped-signature transform must come first",
        ));
    }
    allowed(doc, *digest, &DIGEST_METHODS)?;
    Ok(())
}

/// The element's `Algorithm`, if it is on the allow-list.
fn allowed(doc: &Document<'_>, node: NodeId, list: &[&'static str]) -> Result<&'static str, SamlError> {
    let uri = attr(doc, node, "Algorithm").unwrap_or_default();
    list.iter()
        .find(|a| **a == uri)
        .copied()
        .ok_or_else(|| SamlError::DisallowedAlgorithm {
            uri: super::xml::bounded(uri, 200),
        })
}

/// The DER of each `KeyInfo/X509Data/X509Certificate`.
fn embedded_certificates(doc: &Document<'_>, signature: NodeId) -> Result<Vec<Vec<u8>>, SamlError> {
    let mut out = Vec::new();
    for key_info in children_named(doc, signature, DSIG, "KeyInfo") {
        for data in children_named(doc, key_info, DSIG, "X509Data") {
            for cert in children_named(doc, data, DSIG, "X509Certificate") {
                let b64: String = text(doc, cert)
                    .ok_or(SamlError::SignatureMalformed("X509Certificate is not text"))?
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                out.push(
                    STANDARD
                        .decode(b64)
                        .map_err(|_| SamlError::UntrustedCertificate)?,
                );
            }
        }
    }
    Ok(out)
}
