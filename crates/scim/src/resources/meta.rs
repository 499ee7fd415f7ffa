//! `meta` (RFC 7643 §3.1) and the resource's version as a weak ETag (RFC 7644 §3.14).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// The service provider's metadata about a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// `User` or `Group`.
    pub resource_type: String,
    /// When the resource was created.
    pub created: DateTime<Utc>,
    /// When it was last modified.
    pub last_modified: DateTime<Utc>,
    /// Its URL.
    pub location: String,
    /// Its version counter, rendered as a weak ETag.
    pub version: u64,
}

/// The weak ETag of a version: `W/"3"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// The version named by an `If-Match` / `If-None-Match` ETag (`W/"3"`, `"3"`), if it is one of ours.
pub fn parse_etag(tag: &str) -> Option<u64> {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

impl Meta {
    /// The `meta` object.
    pub fn to_value(&self) -> Value {
        json!({
            "resourceType": self.resource_type,
            "created": self.created.to_rfc3339_opts(SecondsFormat::Millis, true),
            "lastModified": self.last_modified.to_rfc3339_opts(SecondsFormat::Millis, true),
            "location": self.location,
            "version": etag(self.version),
        })
    }
}

/// Sets `id` and `meta` on a document before it is returned.
pub fn set_id_and_meta(doc: &mut Value, id: &str, meta: &Meta) {
    if let Some(o) = doc.as_object_mut() {
        o.insert("id".to_owned(), Value::String(id.to_owned()));
        o.insert("meta".to_owned(), meta.to_value());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(etag(3), "W/\"3\"");
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("\"12\""), Some(12));
        assert_eq!(parse_etag("W/\"x\""), None);
        assert_eq!(parse_etag("*"), None);
    }
}
