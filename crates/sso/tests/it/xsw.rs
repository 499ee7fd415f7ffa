//! String surgery on a signed response (from `scimd_sso::testing::saml_idp`, whose serialisation this relies on) for the XML
//! signature wrapping corpus: the eight SAMLRaider shapes and their relatives. Every helper keeps the signed
//! bytes intact, so the signature over the original element still verifies: only the position moves.

/// The byte range of the first `<{tag}` element (including its end tag) at or after `from`.
pub fn element_range(xml: &str, open: &str, close: &str, from: usize) -> std::ops::Range<usize> {
    let start = from + xml[from..].find(open).unwrap_or_else(|| panic!("no {open}"));
    let mut depth = 0usize;
    let mut i = start;
    loop {
        let next_open = xml[i + 1..].find(open).map(|p| p + i + 1);
        let next_close = xml[i..]
            .find(close)
            .map(|p| p + i)
            .unwrap_or_else(|| panic!("no {close}"));
        match next_open {
            Some(o) if o < next_close => {
                depth += 1;
                i = o;
            }
            _ if depth == 0 => return start..next_close + close.len(),
            _ => {
                depth -= 1;
                i = next_close + 1;
            }
        }
    }
}

pub fn assertion_range(xml: &str) -> std::ops::Range<usize> {
    element_range(xml, "<Assertion ", "</Assertion>", 0)
}

pub fn assertion(xml: &str) -> String {
    xml[assertion_range(xml)].to_owned()
}

/// The range of the first `<Signature ` after `from`.
pub fn signature_range(xml: &str, from: usize) -> std::ops::Range<usize> {
    element_range(xml, "<Signature ", "</Signature>", from)
}

/// The Response's own Signature (it precedes the Assertion).
pub fn response_signature_range(xml: &str) -> std::ops::Range<usize> {
    let r = signature_range(xml, 0);
    assert!(r.start < assertion_range(xml).start, "the response is not signed");
    r
}

pub fn without(xml: &str, range: std::ops::Range<usize>) -> String {
    format!("{}{}", &xml[..range.start], &xml[range.end..])
}

pub fn insert(xml: &str, at: usize, what: &str) -> String {
    format!("{}{what}{}", &xml[..at], &xml[at..])
}

/// What the attacker wants consumed: the assertion with another ID and NameID, and no Signature.
pub fn evil_assertion(signed_assertion: &str) -> String {
    let mut evil = signed_assertion.to_owned();
    if let Some(sig) = evil.find("<Signature ").map(|_| signature_range(&evil, 0)) {
        evil = without(&evil, sig);
    }
    let id_start = evil.find(" ID=\"").unwrap() + 5;
    let id_end = id_start + evil[id_start..].find('"').unwrap();
    evil.replace_range(id_start..id_end, "_evil-assertion");
    let nid_start = evil.find("<NameID").unwrap();
    let nid_text = nid_start + evil[nid_start..].find('>').unwrap() + 1;
    let nid_end = nid_text + evil[nid_text..].find("</NameID>").unwrap();
    evil.replace_range(nid_text..nid_end, "admin@victim.example");
    evil
}

/// The signed assertion with its NameID changed but its Signature left in place (XSW5, 6, 8).
pub fn tampered_keeping_signature(signed_assertion: &str) -> String {
    let mut a = signed_assertion.to_owned();
    let nid_start = a.find("<NameID").unwrap();
    let nid_text = nid_start + a[nid_start..].find('>').unwrap() + 1;
    let nid_end = nid_text + a[nid_text..].find("</NameID>").unwrap();
    a.replace_range(nid_text..nid_end, "admin@victim.example");
    let id_start = a.find(" ID=\"").unwrap() + 5;
    let id_end = id_start + a[id_start..].find('"').unwrap();
    a.replace_range(id_start..id_end, "_evil-assertion");
    a
}

/// The signed assertion without its Signature (the copy that keeps the digest valid).
pub fn unsigned_copy(signed_assertion: &str) -> String {
    let r = signature_range(signed_assertion, 0);
    without(signed_assertion, r)
}

/// Replace the first `from` with `to`, insisting it is there.
pub fn swap(xml: &str, from: &str, to: &str) -> String {
    assert!(xml.contains(from), "{from} not in the response");
    xml.replacen(from, to, 1)
}
