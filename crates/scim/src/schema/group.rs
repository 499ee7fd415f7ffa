//! The core Group schema, `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 §4.2 and §8.7.1).

use super::SchemaDef;
use super::attribute::{AttrType, AttributeDef as A, Mutability};

/// The core Group schema URN.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

const MEMBERS: &[A] = &[
    A::string("value", "Identifier of the member of this Group.")
        .case_exact()
        .mutability(Mutability::Immutable),
    A::reference(
        "$ref",
        &["User", "Group"],
        "The URI corresponding to a SCIM resource that is a member.",
    )
    .mutability(Mutability::Immutable),
    A::string("display", "A human-readable name for the member.").mutability(Mutability::ReadOnly),
    A::new(
        "type",
        AttrType::String,
        "A label indicating the type of resource, e.g. 'User' or 'Group'.",
    )
    .canonical(&["User", "Group"])
    .mutability(Mutability::Immutable),
];

const ATTRIBUTES: &[A] = &[
    A::string("displayName", "A human-readable name for the Group.").required(),
    A::complex("members", MEMBERS, "A list of members of the Group.").multi(),
];

/// The core Group schema.
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attributes: ATTRIBUTES,
};
