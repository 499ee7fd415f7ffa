//! The structure allow-list (S4, S5 positions, S19), checked on the parsed document before any crypto:
//! the root is a protocol `Response`; no other `Response` anywhere; `Signature` only directly after the
//! `Issuer` of the Response or of its Assertion; exactly one `Assertion`, as a direct child of the root; no
//! `EncryptedAssertion`; no namespace-qualified ID attributes; no duplicate IDs; and the children of the
//! Response and the Assertion in schema order with nothing unknown. The result names the nodes the later
//! steps may use, so nothing later searches the document again.

use super::SamlError;
use super::names::{ASSERTION, DSIG, PROTOCOL};
use super::xml::{attr, child_elements, describe, is, only_whitespace_text};
use bergshamra_xml::uppsala::{Document, NodeId};
use std::collections::HashSet;

/// The ID attribute names bergshamra resolves references by; all of them must be unique and unqualified.
const ID_NAMES: [&str; 4] = ["ID", "Id", "id", "AssertionID"];

/// The positions the SAML profile allows, found by [`check`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub(crate) response: NodeId,
    pub(crate) assertion: NodeId,
    pub(crate) response_signature: Option<NodeId>,
    pub(crate) assertion_signature: Option<NodeId>,
}

pub(crate) fn check(doc: &Document<'_>) -> Result<Layout, SamlError> {
    let response = doc.document_element().ok_or(SamlError::NotAResponse)?;
    if !is(doc, response, PROTOCOL, "Response") {
        return Err(SamlError::NotAResponse);
    }
    scan(doc, response)?;
    if attr(doc, response, "Version") != Some("2.0") {
        return Err(SamlError::Malformed("Response Version is not 2.0"));
    }
    if attr(doc, response, "ID").is_none_or(str::is_empty) {
        return Err(SamlError::Malformed("Response has no ID"));
    }
    let (response_signature, assertion) = response_children(doc, response)?;
    let assertion_signature = assertion_children(doc, assertion)?;
    Ok(Layout {
        response,
        assertion,
        response_signature,
        assertion_signature,
    })
}

/// Whole-document rules, in an order that names the most telling fault first.
fn scan(doc: &Document<'_>, root: NodeId) -> Result<(), SamlError> {
    let elements: Vec<NodeId> = doc
        .descendants(root)
        .into_iter()
        .filter(|n| doc.element(*n).is_some())
        .collect();
    let direct_assertion = |n: NodeId| doc.parent(n) == Some(root) && is(doc, n, ASSERTION, "Assertion");

    for &n in elements.iter().chain(std::iter::once(&root)) {
        let polluted = doc.element(n).is_some_and(|e| {
            e.attributes
                .iter()
                .any(|a| a.name.namespace_uri.is_some() && ID_NAMES.contains(&&*a.name.local_name))
        });
        if polluted {
            return Err(SamlError::AttributePollution);
        }
    }
    // A second Response, then an Assertion anywhere but under the root (Extensions, Advice, inside another
    // Assertion or a Signature), then a Signature anywhere but on the root or that Assertion.
    if elements.iter().any(|&n| is(doc, n, PROTOCOL, "Response")) {
        return Err(SamlError::SignatureWrapping);
    }
    if elements
        .iter()
        .any(|&n| is(doc, n, ASSERTION, "Assertion") && doc.parent(n) != Some(root))
    {
        return Err(SamlError::AssertionMisplaced);
    }
    let misplaced_signature = elements.iter().any(|&n| {
        is(doc, n, DSIG, "Signature") && !doc.parent(n).is_some_and(|p| p == root || direct_assertion(p))
    });
    if misplaced_signature {
        return Err(SamlError::SignatureWrapping);
    }
    if elements
        .iter()
        .any(|&n| is(doc, n, ASSERTION, "EncryptedAssertion"))
    {
        return Err(SamlError::EncryptedAssertion);
    }
    let mut seen = HashSet::new();
    for &n in elements.iter().chain(std::iter::once(&root)) {
        for name in ID_NAMES {
            if let Some(value) = attr(doc, n, name)
                && !seen.insert(value)
            {
                return Err(SamlError::DuplicateId);
            }
        }
    }
    Ok(())
}

/// `Issuer? Signature? Extensions? Status Assertion`, with the Signature only right after the Issuer.
fn response_children(doc: &Document<'_>, response: NodeId) -> Result<(Option<NodeId>, NodeId), SamlError> {
    if !only_whitespace_text(doc, response) {
        return Err(SamlError::Malformed("text between the Response's elements"));
    }
    let children = child_elements(doc, response);
    let assertions: Vec<NodeId> = children
        .iter()
        .copied()
        .filter(|&c| is(doc, c, ASSERTION, "Assertion"))
        .collect();
    let assertion = match assertions.as_slice() {
        [] => return Err(SamlError::NoAssertion),
        [one] => *one,
        _ => return Err(SamlError::MultipleAssertions),
    };
    let mut rest = children.iter().copied().peekable();
    rest.next_if(|&c| is(doc, c, ASSERTION, "Issuer"));
    let signature = rest.next_if(|&c| is(doc, c, DSIG, "Signature"));
    rest.next_if(|&c| is(doc, c, PROTOCOL, "Extensions"));
    if rest.next_if(|&c| is(doc, c, PROTOCOL, "Status")).is_none() {
        return Err(match rest.peek() {
            Some(&c) if is(doc, c, DSIG, "Signature") => SamlError::SignatureWrapping,
            Some(&c) if !is(doc, c, ASSERTION, "Assertion") => SamlError::UnexpectedElement(describe(doc, c)),
            _ => SamlError::Malformed("Response has no Status before its Assertion"),
        });
    }
    if rest.next_if(|&c| c == assertion).is_none() {
        return Err(unexpected(doc, rest.peek().copied()));
    }
    if let Some(extra) = rest.next() {
        return Err(unexpected(doc, Some(extra)));
    }
    Ok((signature, assertion))
}

/// `Issuer Signature? Subject Conditions Advice? (AuthnStatement | AttributeStatement)+`.
fn assertion_children(doc: &Document<'_>, assertion: NodeId) -> Result<Option<NodeId>, SamlError> {
    if attr(doc, assertion, "Version") != Some("2.0") {
        return Err(SamlError::Malformed("Assertion Version is not 2.0"));
    }
    if attr(doc, assertion, "ID").is_none_or(str::is_empty) {
        return Err(SamlError::Malformed("Assertion has no ID"));
    }
    if !only_whitespace_text(doc, assertion) {
        return Err(SamlError::Malformed("text between the Assertion's elements"));
    }
    let children = child_elements(doc, assertion);
    let mut rest = children.iter().copied().peekable();
    if rest.next_if(|&c| is(doc, c, ASSERTION, "Issuer")).is_none() {
        return Err(SamlError::WrongIssuer);
    }
    let signature = rest.next_if(|&c| is(doc, c, DSIG, "Signature"));
    for (local, what) in [
        ("Subject", "Assertion has no Subject"),
        ("Conditions", "Assertion has no Conditions"),
    ] {
        if rest.next_if(|&c| is(doc, c, ASSERTION, local)).is_none() {
            return Err(match rest.peek() {
                Some(&c) if is(doc, c, DSIG, "Signature") => SamlError::SignatureWrapping,
                Some(&c) if !is(doc, c, ASSERTION, "Subject") && !is(doc, c, ASSERTION, "Conditions") => {
                    SamlError::UnexpectedElement(describe(doc, c))
                }
                _ => SamlError::Malformed(what),
            });
        }
    }
    rest.next_if(|&c| is(doc, c, ASSERTION, "Advice"));
    for c in rest {
        if !is(doc, c, ASSERTION, "AuthnStatement") && !is(doc, c, ASSERTION, "AttributeStatement") {
            return Err(if is(doc, c, DSIG, "Signature") {
                SamlError::SignatureWrapping
            } else {
                SamlError::UnexpectedElement(describe(doc, c))
            });
        }
    }
    Ok(signature)
}

fn unexpected(doc: &Document<'_>, node: Option<NodeId>) -> SamlError {
    match node {
        Some(c) if is(doc, c, DSIG, "Signature") => SamlError::SignatureWrapping,
        Some(c) => SamlError::UnexpectedElement(describe(doc, c)),
        None => SamlError::Malformed("Response ends before its Assertion"),
    }
}
