//! Group documents: read accessors, and the `members` entries the SCIM API adds from the store's rows.

use crate::json::field;
use serde_json::{Map, Value};

/// A read-only view of a Group document.
#[derive(Debug, Clone, Copy)]
pub struct GroupView<'a>(pub &'a Value);

impl<'a> GroupView<'a> {
    /// `displayName`.
    pub fn display_name(&self) -> Option<&'a str> {
        field(self.0, "displayName").and_then(Value::as_str)
    }

    /// `externalId`.
    pub fn external_id(&self) -> Option<&'a str> {
        field(self.0, "externalId").and_then(Value::as_str)
    }
}

/// The kind of a group member: a User or a nested Group. The same two variants as
/// [`crate::schema::ResourceKind`], kept under this name so that existing callers compile.
pub use crate::schema::ResourceKind as MemberKind;

/// One `members` entry: `value`, `$ref` (`{base_url}/Users/{id}`), `type`, and `display` when known.
pub fn member_entry(base_url: &str, id: &str, kind: MemberKind, display: Option<&str>) -> Value {
    let (ty, endpoint) = (kind.name(), kind.endpoint_segment());
    let mut m = Map::new();
    m.insert("value".into(), Value::String(id.to_owned()));
    m.insert(
        "$ref".into(),
        Value::String(format!("{}/{endpoint}/{id}", base_url.trim_end_matches('/'))),
    );
    m.insert("type".into(), Value::String(ty.to_owned()));
    if let Some(d) = display {
        m.insert("display".into(), Value::String(d.to_owned()));
    }
    Value::Object(m)
}

/// Sets `members` on a Group document (before projection), from the store's rows.
pub fn set_members(doc: &mut Value, members: Vec<Value>) {
    if let Some(o) = doc.as_object_mut() {
        o.insert("members".to_owned(), Value::Array(members));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_entries_carry_a_ref() {
        let e = member_entry("https://h/scim/v2/", "u1", MemberKind::User, Some("Babs"));
        assert_eq!(
            e,
            json!({"value": "u1", "$ref": "https://h/scim/v2/Users/u1", "type": "User", "display": "Babs"})
        );
        let doc = json!({"displayName": "Admins", "externalId": "x"});
        assert_eq!(GroupView(&doc).display_name(), Some("Admins"));
        assert_eq!(GroupView(&doc).external_id(), Some("x"));
    }
}
