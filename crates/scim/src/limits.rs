//! Input limits: every number that bounds what one request may make scimd store or compute, in one place.
//! Each is enforced before the work it bounds and answered with a 400 SCIM error whose detail names the
//! limit (the constant's name, as the filter limits of [`crate::filter`] do), so that an IdP administrator
//! can tell which one they hit.
//!
//! Applied by create/replace validation ([`crate::resources::validate`]), by the PATCH engine (on each
//! operation's value before it is coerced, on the touched attribute after each operation, and on the
//! resulting document), and by `attributes` / `excludedAttributes` parsing ([`crate::list`]).

use crate::error::ScimError;
use crate::schema::{AttrType, AttributeDef, ResourceSchema};
use crate::work;
use serde_json::{Map, Value};

/// The most values one multi-valued attribute may hold (`emails`, `phoneNumbers`, ...), checked before any
/// deduplication. Real directories send a handful; 100 leaves room and keeps every per-value step cheap.
/// Group `members` are rows, not values, and have their own limit ([`MAX_MEMBERS_PER_REQUEST`]).
pub const MAX_VALUES_PER_ATTRIBUTE: usize = 100;
/// The most members one JSON object may have: a resource's top-level attributes, an extension's, a
/// complex value's sub-attributes. The schemas define far fewer; this bounds unknown extension objects.
pub const MAX_OBJECT_MEMBERS: usize = 100;
/// The longest string value, in bytes (UTF-8).
pub const MAX_STRING_BYTES: usize = 2048;
/// The longest `userName`, `displayName` or `externalId`, in bytes. The store indexes these columns; a
/// PostgreSQL btree index row holds at most about 2.7 KB, so a longer value would fail the insert with 500.
/// The store indexes a normalised form of the names (NFKC, lowercase), which can be longer than the value
/// (NFKC turns some single characters into up to 18): a store that indexes it must bound that form too.
pub const MAX_IDENTIFIER_BYTES: usize = 512;
/// The attributes held to [`MAX_IDENTIFIER_BYTES`] (top-level, core or common).
pub const IDENTIFIER_ATTRIBUTES: [&str; 3] = ["userName", "displayName", "externalId"];
/// The longest value of a `binary` attribute (base64, e.g. `x509Certificates.value`): a certificate in
/// DER is usually 1 to 2 KB, 4 KB with a long chain of extensions.
pub const MAX_BINARY_BYTES: usize = 8 * 1024;
/// The largest stored document, serialised as compact JSON, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// The most entries in `attributes` or in `excludedAttributes` (after splitting on commas).
pub const MAX_PROJECTION_ENTRIES: usize = 64;
/// The longest entry of `attributes` / `excludedAttributes`, in bytes (the longest defined path, an
/// enterprise extension sub-attribute, is under 90).
pub const MAX_PROJECTION_ENTRY_BYTES: usize = 256;
/// The most operations in one PATCH.
pub const MAX_PATCH_OPERATIONS: usize = 1_000;
/// The most member ids one request may add or remove (a Group's POST/PUT body, or one PATCH); see
/// [`ScimError::too_many_members`].
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;

/// The longest string allowed for the attribute `def` named `name` (its canonical path).
pub(crate) fn max_string_bytes(def: &AttributeDef, name: &str) -> (usize, &'static str) {
    if def.ty == AttrType::Binary {
        (MAX_BINARY_BYTES, "MAX_BINARY_BYTES")
    } else if IDENTIFIER_ATTRIBUTES.contains(&name) {
        (MAX_IDENTIFIER_BYTES, "MAX_IDENTIFIER_BYTES")
    } else {
        (MAX_STRING_BYTES, "MAX_STRING_BYTES")
    }
}

/// A string value of attribute `name`: at most `max` bytes (`limit` names the constant) and free of C0
/// control characters other than tab, CR and LF (PostgreSQL's jsonb cannot hold U+0000, and no SCIM
/// attribute has a use for the others).
pub(crate) fn check_string(s: &str, name: &str, max: usize, limit: &str) -> Result<(), ScimError> {
    work::add_len(s.len() / 64 + 1);
    if s.len() > max {
        return Err(ScimError::invalid_value(format!(
            "A value of \"{name}\" is {} bytes long; the limit ({limit}) is {max} bytes.",
            s.len()
        )));
    }
    if let Some(c) = s.chars().find(|c| is_forbidden_control(*c)) {
        return Err(ScimError::invalid_value(format!(
            "A value of \"{name}\" contains the control character U+{:04X}; only tab, CR and LF are \
             allowed.",
            u32::from(c)
        )));
    }
    Ok(())
}

/// C0 control characters other than tab, LF and CR.
pub(crate) fn is_forbidden_control(c: char) -> bool {
    c < ' ' && !matches!(c, '\t' | '\n' | '\r')
}

/// A group member id (`members.value`): an id is never longer than an identifier, and never holds a
/// control character (PostgreSQL cannot bind a text parameter containing U+0000).
pub(crate) fn check_member_id(id: &str) -> Result<(), ScimError> {
    check_string(id, "members.value", MAX_IDENTIFIER_BYTES, "MAX_IDENTIFIER_BYTES")
}

/// The number of values of a multi-valued attribute `name`, before any work on them.
pub(crate) fn check_values(n: usize, name: &str) -> Result<(), ScimError> {
    if n > MAX_VALUES_PER_ATTRIBUTE {
        return Err(ScimError::too_many(format!(
            "\"{name}\" has {n} values; the limit (MAX_VALUES_PER_ATTRIBUTE) is {MAX_VALUES_PER_ATTRIBUTE}."
        )));
    }
    Ok(())
}

fn check_members_count(n: usize, name: &str) -> Result<(), ScimError> {
    if n > MAX_OBJECT_MEMBERS {
        return Err(ScimError::too_many(format!(
            "\"{name}\" has {n} members; the limit (MAX_OBJECT_MEMBERS) is {MAX_OBJECT_MEMBERS}."
        )));
    }
    Ok(())
}

/// Any JSON value from a request (a PATCH operation's value), before it is coerced: no string longer than
/// the longest any attribute allows, no forbidden control character, no array or object over its limit,
/// at most [`MAX_DOCUMENT_BYTES`] in all. Linear in the value's size.
pub(crate) fn check_input(v: &Value, name: &str) -> Result<(), ScimError> {
    // The walk first: it refuses an over-long list or object before looking inside it, and names the
    // more specific limit; it is linear in the value, which is part of the request.
    walk(v, name, MAX_BINARY_BYTES, "MAX_BINARY_BYTES")?;
    check_size(v, name)
}

/// A whole resource document, as it is about to be stored: every string, array and object within its
/// limits (strings by their attribute's limit) and the document within [`MAX_DOCUMENT_BYTES`].
pub(crate) fn check_document(doc: &Map<String, Value>, schema: &ResourceSchema) -> Result<(), ScimError> {
    check_members_count(doc.len(), "the resource")?;
    for (key, v) in doc {
        check_string(key, "an attribute name", MAX_STRING_BYTES, "MAX_STRING_BYTES")?;
        if let Some(ext) = schema.extension(key)
            && let Value::Object(inner) = v
        {
            check_members_count(inner.len(), key)?;
            for (k, iv) in inner {
                check_string(k, "an attribute name", MAX_STRING_BYTES, "MAX_STRING_BYTES")?;
                let name = format!("{}:{k}", ext.id);
                check_attribute(ext.attribute(k), iv, &name)?;
            }
            continue;
        }
        let def = schema.attribute(None, key).map(|l| l.def);
        check_attribute(def, v, key)?;
    }
    let mut counter = Counter(0);
    if serde_json::to_writer(&mut counter, doc).is_err() {
        return Err(too_large(counter.0, "The resource"));
    }
    Ok(())
}

fn check_attribute(def: Option<&AttributeDef>, v: &Value, name: &str) -> Result<(), ScimError> {
    let (max, limit) = match def {
        Some(d) if d.ty == AttrType::Binary || d.sub_attributes.iter().any(|s| s.ty == AttrType::Binary) => {
            (MAX_BINARY_BYTES, "MAX_BINARY_BYTES")
        }
        Some(d) => max_string_bytes(d, name),
        None => (MAX_STRING_BYTES, "MAX_STRING_BYTES"),
    };
    walk(v, name, max, limit)
}

/// After a PATCH operation: the attribute it touched (the top-level key `key`) and its direct children
/// hold at most their limits in values and members, so that no later operation works on a list that
/// grew past them. Constant work: it looks at lengths only.
pub(crate) fn check_touched(root: &Map<String, Value>, key: &str) -> Result<(), ScimError> {
    check_members_count(root.len(), "the resource")?;
    let Some(v) = crate::json::get_ci(root, key) else {
        return Ok(());
    };
    shallow(v, key)?;
    let children: Box<dyn Iterator<Item = &Value>> = match v {
        Value::Array(a) => Box::new(a.iter()),
        Value::Object(o) => Box::new(o.values()),
        _ => return Ok(()),
    };
    for c in children {
        shallow(c, key)?;
    }
    Ok(())
}

fn shallow(v: &Value, name: &str) -> Result<(), ScimError> {
    work::add(1);
    match v {
        Value::Array(a) => check_values(a.len(), name),
        Value::Object(o) => check_members_count(o.len(), name),
        _ => Ok(()),
    }
}

fn walk(v: &Value, name: &str, max: usize, limit: &str) -> Result<(), ScimError> {
    work::add(1);
    match v {
        Value::String(s) => check_string(s, name, max, limit),
        Value::Array(items) => {
            check_values(items.len(), name)?;
            items.iter().try_for_each(|i| walk(i, name, max, limit))
        }
        Value::Object(o) => {
            check_members_count(o.len(), name)?;
            for (k, iv) in o {
                check_string(k, "an attribute name", MAX_STRING_BYTES, "MAX_STRING_BYTES")?;
                walk(iv, name, max, limit)?;
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn check_size(v: &Value, name: &str) -> Result<(), ScimError> {
    let mut counter = Counter(0);
    if serde_json::to_writer(&mut counter, v).is_err() {
        return Err(too_large(counter.0, &format!("The value of \"{name}\"")));
    }
    Ok(())
}

fn too_large(at_least: usize, what: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "{what} is more than {} bytes as JSON; the limit (MAX_DOCUMENT_BYTES) is {MAX_DOCUMENT_BYTES} bytes.",
        at_least.min(MAX_DOCUMENT_BYTES)
    ))
}

/// Counts serialised bytes and fails as soon as they pass [`MAX_DOCUMENT_BYTES`], so that measuring a huge
/// value costs no more than the limit.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        work::add(1);
        self.0 += buf.len();
        if self.0 > MAX_DOCUMENT_BYTES {
            return Err(std::io::Error::other("too large"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `attributes` or `excludedAttributes` (`param`), already split on commas: at most
/// [`MAX_PROJECTION_ENTRIES`] entries of at most [`MAX_PROJECTION_ENTRY_BYTES`] each. Stops at the first
/// entry past a limit, so a huge list costs no more than the limit.
pub(crate) fn projection_list<'a>(
    param: &str,
    entries: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, ScimError> {
    let mut out = Vec::new();
    for e in entries {
        work::add(1);
        if out.len() == MAX_PROJECTION_ENTRIES {
            return Err(ScimError::too_many(format!(
                "\"{param}\" names more than {MAX_PROJECTION_ENTRIES} attributes; the limit \
                 (MAX_PROJECTION_ENTRIES) is {MAX_PROJECTION_ENTRIES}."
            )));
        }
        if e.len() > MAX_PROJECTION_ENTRY_BYTES {
            return Err(ScimError::invalid_value(format!(
                "An entry of \"{param}\" is {} bytes long; the limit (MAX_PROJECTION_ENTRY_BYTES) is \
                 {MAX_PROJECTION_ENTRY_BYTES} bytes.",
                e.len()
            )));
        }
        if e.chars().any(is_forbidden_control) {
            return Err(ScimError::invalid_value(format!(
                "An entry of \"{param}\" contains a control character."
            )));
        }
        out.push(e.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::USER;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn documents_within_limits_pass_and_each_limit_is_named() {
        let ok = obj(json!({"userName": "a", "addresses": [{"formatted": "1 Main St\nTown\t"}]}));
        assert_eq!(check_document(&ok, &USER), Ok(()));
        let cases = [
            (json!({"userName": "x".repeat(513)}), "MAX_IDENTIFIER_BYTES"),
            (json!({"title": "x".repeat(2049)}), "MAX_STRING_BYTES"),
            (
                json!({"x509Certificates": [{"value": "x".repeat(8193)}]}),
                "MAX_BINARY_BYTES",
            ),
            (
                json!({"emails": vec![json!({"value": "a"}); 101]}),
                "MAX_VALUES_PER_ATTRIBUTE",
            ),
            (
                json!({"urn:x:y": {"big": "x".repeat(2000), "b2": "y".repeat(2000)}}),
                "",
            ),
        ];
        for (doc, limit) in cases {
            let e = check_document(&obj(doc), &USER);
            if limit.is_empty() {
                assert_eq!(e, Ok(()));
            } else {
                assert!(
                    e.is_err_and(|e| e.status == 400 && e.detail.contains(limit)),
                    "{limit}"
                );
            }
        }
        let wide: Map<String, Value> = (0..40)
            .map(|i| (format!("urn:x:{i}"), json!({"a": "y".repeat(2000)})))
            .collect();
        assert!(check_document(&wide, &USER).is_err_and(|e| e.detail.contains("MAX_DOCUMENT_BYTES")));
        let nul = obj(json!({"urn:x:y": {"k": "a\u{0}b"}}));
        assert!(check_document(&nul, &USER).is_err_and(|e| e.detail.contains("U+0000")));
    }

    #[test]
    fn projection_lists_are_capped() {
        let many: Vec<String> = (0..65).map(|i| format!("a{i}")).collect();
        let e = projection_list("attributes", many.iter().map(String::as_str));
        assert!(e.is_err_and(|e| e.detail.contains("MAX_PROJECTION_ENTRIES")));
        let long = "a".repeat(257);
        let e = projection_list("attributes", [long.as_str()]);
        assert!(e.is_err_and(|e| e.detail.contains("MAX_PROJECTION_ENTRY_BYTES")));
        assert_eq!(
            projection_list("attributes", ["userName"]),
            Ok(vec!["userName".to_owned()])
        );
    }
}
