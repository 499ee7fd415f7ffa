//! Read accessors on a User document: the columns the store keeps beside the JSON document.

use crate::json::field;
use serde_json::Value;

/// A read-only view of a User document.
#[derive(Debug, Clone, Copy)]
pub struct UserView<'a>(pub &'a Value);

impl<'a> UserView<'a> {
    fn str_at(&self, key: &str) -> Option<&'a str> {
        field(self.0, key).and_then(Value::as_str)
    }

    /// `userName` (for scimd, the member's email).
    pub fn user_name(&self) -> Option<&'a str> {
        self.str_at("userName")
    }

    /// `externalId`, the IdP's identifier.
    pub fn external_id(&self) -> Option<&'a str> {
        self.str_at("externalId")
    }

    /// `active`; a User without it is active (RFC 7643 leaves the default to the service provider).
    pub fn active(&self) -> bool {
        field(self.0, "active").and_then(Value::as_bool).unwrap_or(true)
    }

    /// `displayName`.
    pub fn display_name(&self) -> Option<&'a str> {
        self.str_at("displayName")
    }

    /// `name.givenName`.
    pub fn given_name(&self) -> Option<&'a str> {
        field(self.0, "name")
            .and_then(|n| field(n, "givenName"))
            .and_then(Value::as_str)
    }

    /// `name.familyName`.
    pub fn family_name(&self) -> Option<&'a str> {
        field(self.0, "name")
            .and_then(|n| field(n, "familyName"))
            .and_then(Value::as_str)
    }

    /// The primary email's value, or else the first email's.
    pub fn primary_email(&self) -> Option<&'a str> {
        let emails = field(self.0, "emails")?.as_array()?;
        let primary = emails
            .iter()
            .find(|e| field(e, "primary").and_then(Value::as_bool) == Some(true));
        primary
            .or_else(|| emails.first())
            .and_then(|e| field(e, "value"))
            .and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accessors() {
        let doc = json!({
            "userName": "bjensen@example.com", "externalId": "e1", "displayName": "Babs",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "a@x"}, {"value": "b@x", "primary": true}]
        });
        let u = UserView(&doc);
        assert_eq!(u.user_name(), Some("bjensen@example.com"));
        assert_eq!(u.external_id(), Some("e1"));
        assert!(u.active());
        assert_eq!(u.given_name(), Some("Barbara"));
        assert_eq!(u.family_name(), Some("Jensen"));
        assert_eq!(u.display_name(), Some("Babs"));
        assert_eq!(u.primary_email(), Some("b@x"));
        let doc = json!({"emails": [{"value": "a@x"}], "active": false});
        assert_eq!(UserView(&doc).primary_email(), Some("a@x"));
        assert!(!UserView(&doc).active());
    }
}
