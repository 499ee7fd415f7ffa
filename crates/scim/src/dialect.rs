//! [`Dialect`]: the IdP behaviours outside the letter of RFC 7644 that the PATCH engine and create/replace
//! validation accept, reported so that the audit trail and tests can say which rule fired; and
//! `Dialects`, the collector both fill. A leaf module: it imports nothing of the crate, so that
//! `patch → resources → values → dialect` has no circle.

use std::fmt;

/// An accepted IdP dialect rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `"op": "Replace"` (Entra ID) or any case other than lowercase.
    CaseInsensitiveOp,
    /// A boolean sent as the string `"True"` or `"False"` (Entra ID).
    StringBoolean,
    /// An operation without `path` whose value names the attributes (Okta's `{"op":"replace","value":
    /// {"active":false}}`). RFC 7644 allows it; reported because it is how Okta deactivates.
    PathlessOperation,
    /// A path-less value with dotted keys such as `"name.givenName"` (Entra ID).
    PathlessDottedKey,
    /// A path-less value keyed by a URN-qualified attribute such as
    /// `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"` (Entra ID).
    PathlessExtensionUrnKey,
    /// A path-less value repeating a readOnly attribute with its current value (Okta sends `id` when it
    /// renames a group); ignored instead of refused.
    ReadOnlyEchoIgnored,
    /// `add` to a value path with no match creates the value from the filter's `eq` terms
    /// (`emails[type eq "work"].value`).
    AddCreatesValuePathElement,
    /// A complex attribute given as its bare `value`, e.g. Entra's `manager` as a string id.
    ComplexAsBareValue,
    /// `remove` of `members` with a `value` list removes just those members (Entra ID).
    MembersRemoveByValueList,
    /// `replace` of `members` with `[]` removes every member (Okta).
    MembersReplaceEmpty,
}

impl Dialect {
    /// A human label, for audit details and logs.
    pub const fn label(self) -> &'static str {
        match self {
            Self::CaseInsensitiveOp => "Entra capitalised op",
            Self::StringBoolean => "Entra string boolean",
            Self::PathlessOperation => "Okta path-less replace",
            Self::PathlessDottedKey => "Entra path-less dotted key",
            Self::PathlessExtensionUrnKey => "Entra path-less extension URN key",
            Self::ReadOnlyEchoIgnored => "Okta read-only attribute echoed in a path-less value",
            Self::AddCreatesValuePathElement => "add to an unmatched value path creates the value",
            Self::ComplexAsBareValue => "Entra manager as a bare id",
            Self::MembersRemoveByValueList => "Entra remove members by value list",
            Self::MembersReplaceEmpty => "Okta replace members with []",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Records the dialect rules that fired, each once, in the order they first fired.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Dialects(pub(crate) Vec<Dialect>);

impl Dialects {
    pub(crate) fn note(&mut self, d: Dialect) {
        if !self.0.contains(&d) {
            self.0.push(d);
        }
    }
}
