//! The Enterprise User extension, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`
//! (RFC 7643 §4.3 and §8.7.1).

use super::SchemaDef;
use super::attribute::{AttributeDef as A, Mutability};

/// The Enterprise User extension URN.
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const MANAGER: &[A] = &[
    A::string(
        "value",
        "The id of the SCIM resource representing the User's manager.",
    ),
    A::reference(
        "$ref",
        &["User"],
        "The URI of the SCIM resource representing the User's manager.",
    ),
    A::string("displayName", "The displayName of the User's manager.").mutability(Mutability::ReadOnly),
];

const ATTRIBUTES: &[A] = &[
    A::string(
        "employeeNumber",
        "Numeric or alphanumeric identifier assigned to a person.",
    ),
    A::string("costCenter", "Identifies the name of a cost center."),
    A::string("organization", "Identifies the name of an organization."),
    A::string("division", "Identifies the name of a division."),
    A::string("department", "Identifies the name of a department."),
    A::complex("manager", MANAGER, "The User's manager."),
];

/// The Enterprise User extension schema.
pub static ENTERPRISE_USER_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: ATTRIBUTES,
};
