//! The one XML reading of a SAML message (S3): uppsala with DTDs and entity declarations forbidden, a depth
//! cap, and no comment, processing-instruction or CDATA node anywhere (S2). Everything after parsing (the
//! structure checks, bergshamra's verification, claim extraction) works on this one `Document`; nothing is
//! re-serialised and re-parsed. The helpers resolve names by namespace URI, never by prefix.

use super::SamlError;
use bergshamra_xml::uppsala::{self, Document, NodeId, NodeKind};

/// SAML messages are shallow; anything deeper is not from an IdP.
const MAX_DEPTH: u32 = 32;

/// Parse `xml`, refusing DTDs, entities, comments, PIs and CDATA.
pub(crate) fn parse(xml: &str) -> Result<Document<'_>, SamlError> {
    // The parser refuses DOCTYPE too; looking first gives the audit trail a precise reason.
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(SamlError::DtdForbidden);
    }
    let doc = uppsala::Parser::new()
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .with_max_depth(MAX_DEPTH)
        .parse(xml)
        .map_err(|e| SamlError::XmlInvalid(bounded(&e.to_string(), 200)))?;
    for node in doc.descendants(doc.root()) {
        match doc.node_kind(node) {
            Some(NodeKind::Comment(_)) => return Err(SamlError::ForbiddenNode("comment")),
            Some(NodeKind::ProcessingInstruction(_)) => {
                return Err(SamlError::ForbiddenNode("processing instruction"));
            }
            Some(NodeKind::CData(_)) => return Err(SamlError::ForbiddenNode("CDATA")),
            _ => {}
        }
    }
    Ok(doc)
}

/// Whether `id` is the element `{ns}local`.
pub(crate) fn is(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> bool {
    doc.element(id).is_some_and(|e| e.matches_name_ns(ns, local))
}

/// The element children of `id`, in document order.
pub(crate) fn child_elements(doc: &Document<'_>, id: NodeId) -> Vec<NodeId> {
    doc.children_iter(id)
        .filter(|c| doc.element(*c).is_some())
        .collect()
}

/// The element children of `id` named `{ns}local`.
pub(crate) fn children_named(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> Vec<NodeId> {
    doc.children_iter(id).filter(|c| is(doc, *c, ns, local)).collect()
}

/// The single child `{ns}local` of `id`; `None` if absent, an error if repeated.
pub(crate) fn optional_child(
    doc: &Document<'_>,
    id: NodeId,
    ns: &str,
    local: &str,
    what: &'static str,
) -> Result<Option<NodeId>, SamlError> {
    let found = children_named(doc, id, ns, local);
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(SamlError::Malformed(what)),
    }
}

/// The single child `{ns}local` of `id`, required.
pub(crate) fn required_child(
    doc: &Document<'_>,
    id: NodeId,
    ns: &str,
    local: &str,
    what: &'static str,
) -> Result<NodeId, SamlError> {
    optional_child(doc, id, ns, local, what)?.ok_or(SamlError::Malformed(what))
}

/// An attribute without a namespace (SAML's own attributes are unqualified), by local name.
pub(crate) fn attr<'d>(doc: &'d Document<'_>, id: NodeId, name: &str) -> Option<&'d str> {
    doc.element(id)?
        .attributes
        .iter()
        .find(|a| a.name.namespace_uri.is_none() && *a.name.local_name == *name)
        .map(|a| &*a.value)
}

/// The text of an element that must hold text only: all text children concatenated (S17: never just the
/// first text node). An element child makes it unusable.
pub(crate) fn text(doc: &Document<'_>, id: NodeId) -> Option<String> {
    let mut out = String::new();
    for child in doc.children_iter(id) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(t)) => out.push_str(t),
            _ => return None,
        }
    }
    Some(out)
}

/// True when the element's non-element children are whitespace only (no stray text between elements).
pub(crate) fn only_whitespace_text(doc: &Document<'_>, id: NodeId) -> bool {
    doc.children_iter(id).all(|c| match doc.node_kind(c) {
        Some(NodeKind::Text(t)) => t.chars().all(char::is_whitespace),
        Some(NodeKind::Element(_)) => true,
        _ => false,
    })
}

/// The local name of an element, for error messages (bounded: it comes from the message).
pub(crate) fn describe(doc: &Document<'_>, id: NodeId) -> String {
    doc.element(id)
        .map(|e| bounded(&e.name.local_name, 64))
        .unwrap_or_default()
}

/// At most `max` printable characters of text that came from outside, for error messages and logs.
pub(crate) fn bounded(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// Escape text or an attribute value for XML we write (metadata, AuthnRequest).
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
