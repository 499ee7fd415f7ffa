//! Case-insensitive access to JSON objects: RFC 7643 §2.1 makes attribute names case-insensitive, so a
//! document written by any client must be read the same way whatever the spelling of its keys.

use serde_json::{Map, Value};

/// The value under `key`, matched case-insensitively (an exact match is tried first).
pub(crate) fn get_ci<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| {
                crate::work::add(1);
                k.eq_ignore_ascii_case(key)
            })
            .map(|(_, v)| v)
    })
}

/// The value under `key` in `value` when it is an object.
pub(crate) fn field<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_object().and_then(|o| get_ci(o, key))
}

/// The key actually used in `obj` for `key`, if any.
pub(crate) fn key_ci(obj: &Map<String, Value>, key: &str) -> Option<String> {
    if obj.contains_key(key) {
        return Some(key.to_owned());
    }
    obj.keys()
        .find(|k| {
            crate::work::add(1);
            k.eq_ignore_ascii_case(key)
        })
        .cloned()
}

/// Removes and returns the value under `key` (any spelling).
pub(crate) fn remove_ci(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let k = key_ci(obj, key)?;
    obj.remove(&k)
}

/// A mutable reference to the value under `key` (any spelling), renaming the key to `key` first so that
/// documents converge on the canonical spelling.
pub(crate) fn get_mut_canonical<'v>(obj: &'v mut Map<String, Value>, key: &str) -> Option<&'v mut Value> {
    if !obj.contains_key(key) {
        let existing = key_ci(obj, key)?;
        let v = obj.remove(&existing)?;
        obj.insert(key.to_owned(), v);
    }
    obj.get_mut(key)
}

/// Sets `key` (canonical spelling) to `value`, removing any other spelling of it.
pub(crate) fn set_canonical(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if let Some(existing) = key_ci(obj, key)
        && existing != key
    {
        obj.remove(&existing);
    }
    obj.insert(key.to_owned(), value);
}

/// Whether a value counts as assigned (RFC 7643 §2.5: null and empty arrays are unassigned; RFC 7644
/// §3.4.2.2 `pr` also wants non-empty strings and objects).
pub(crate) fn is_assigned(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_assigned),
        Value::Object(o) => o.values().any(is_assigned),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Whether a key looks like a schema URN (`urn:...`).
pub(crate) fn is_urn_key(k: &str) -> bool {
    k.len() > 4 && k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}
