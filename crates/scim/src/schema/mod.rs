//! Schemas as data: one definition of each attribute, from which validation ([`crate::resources`],
//! [`crate::patch`]), filter resolution ([`crate::filter::resolve()`]), projection ([`crate::projection`]) and the
//! discovery documents ([`crate::discovery`]) are all derived, so that they cannot disagree.
//!
//! - [`attribute`]: [`AttributeDef`] and its characteristics (type, mutability, returned, ...).
//! - [`common`]: `id`, `externalId`, `meta`.
//! - [`user`], [`enterprise`], [`group`]: the RFC 7643 schemas.
//! - [`custom`]: the extension of the attributes an org declares, [`CustomSchema`].
//! - this module: [`SchemaDef`], [`ResourceSchema`] (a resource type: core schema plus extensions) and the
//!   two resource types scimd serves, [`USER`] and [`GROUP`].

pub mod attribute;
pub mod common;
pub mod custom;
pub mod enterprise;
pub mod group;
pub mod user;

pub use attribute::{AttrType, AttributeDef, Mutability, Returned, Uniqueness, find_attr};
pub use custom::{CUSTOM_USER_SCHEMA, CUSTOM_USER_URN, CustomAttr, CustomSchema, CustomType};
pub use enterprise::{ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_URN};
pub use group::{GROUP_SCHEMA, GROUP_URN};
pub use user::{USER_SCHEMA, USER_URN};

/// A schema: an id (URN) and its attributes (RFC 7643 §7).
#[derive(Debug, PartialEq, Eq)]
pub struct SchemaDef {
    /// The schema URN.
    pub id: &'static str,
    /// A human-readable name.
    pub name: &'static str,
    /// A human-readable description.
    pub description: &'static str,
    /// The top-level attributes.
    pub attributes: &'static [AttributeDef],
}

impl SchemaDef {
    /// The attribute of that name, matched case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        find_attr(self.attributes, name)
    }
}

/// A schema extension of a resource type (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension schema.
    pub schema: &'static SchemaDef,
    /// Whether resources must carry it.
    pub required: bool,
}

/// A resource type: its endpoint, core schema and extensions (RFC 7643 §6).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceSchema {
    /// The resource type name (`User`, `Group`), also `meta.resourceType`.
    pub name: &'static str,
    /// The endpoint relative to the base URL (`/Users`).
    pub endpoint: &'static str,
    /// A human-readable description.
    pub description: &'static str,
    /// The core schema.
    pub core: &'static SchemaDef,
    /// The schema extensions.
    pub extensions: &'static [SchemaExtension],
    /// Whether `members` is stored as rows outside the document (Groups): PATCH then yields a
    /// [`crate::patch::MembersDelta`] instead of editing the document.
    pub members_as_rows: bool,
}

/// Where an attribute is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// `id`, `externalId`, `meta`.
    Common,
    /// The resource type's core schema.
    Core,
    /// A schema extension; its attributes live in an object keyed by the extension URN.
    Extension(&'static SchemaDef),
}

/// A top-level attribute found in a resource schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrLocation {
    /// Where it is defined.
    pub namespace: Namespace,
    /// Its definition.
    pub def: &'static AttributeDef,
}

impl AttrLocation {
    /// The canonical name: `userName`, or `urn:...:enterprise:2.0:User:employeeNumber` for an extension.
    pub fn canonical_name(&self) -> String {
        match self.namespace {
            Namespace::Extension(s) => format!("{}:{}", s.id, self.def.name),
            Namespace::Common | Namespace::Core => self.def.name.to_owned(),
        }
    }
}

impl ResourceSchema {
    /// The extension with that URN, matched case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions
            .iter()
            .map(|e| e.schema)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `urn` is this resource type's core schema URN (case-insensitively).
    pub fn is_core_urn(&self, urn: &str) -> bool {
        self.core.id.eq_ignore_ascii_case(urn)
    }

    /// The top-level attribute `name`, qualified by `urn` when given. Without a URN the common and core
    /// attributes are searched (RFC 7644 §3.10: unqualified names belong to the core schema).
    pub fn attribute(&self, urn: Option<&str>, name: &str) -> Option<AttrLocation> {
        match urn {
            None => self.unqualified(name),
            Some(u) if self.is_core_urn(u) => self.unqualified(name),
            Some(u) => {
                let ext = self.extension(u)?;
                let def = ext.attribute(name)?;
                Some(AttrLocation {
                    namespace: Namespace::Extension(ext),
                    def,
                })
            }
        }
    }

    fn unqualified(&self, name: &str) -> Option<AttrLocation> {
        if let Some(def) = find_attr(common::COMMON_ATTRIBUTES, name) {
            return Some(AttrLocation {
                namespace: Namespace::Common,
                def,
            });
        }
        let def = self.core.attribute(name)?;
        Some(AttrLocation {
            namespace: Namespace::Core,
            def,
        })
    }

    /// Every schema URN of this resource type, core first.
    pub fn schema_urns(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.core.id).chain(self.extensions.iter().map(|e| e.schema.id))
    }

    /// The list of `(namespace, attribute)` pairs this resource type defines, common attributes first.
    pub fn all_attributes(&self) -> impl Iterator<Item = AttrLocation> + '_ {
        let common = common::COMMON_ATTRIBUTES.iter().map(|def| AttrLocation {
            namespace: Namespace::Common,
            def,
        });
        let core = self.core.attributes.iter().map(|def| AttrLocation {
            namespace: Namespace::Core,
            def,
        });
        let ext = self.extensions.iter().flat_map(|e| {
            e.schema.attributes.iter().map(|def| AttrLocation {
                namespace: Namespace::Extension(e.schema),
                def,
            })
        });
        common.chain(core).chain(ext)
    }
}

/// The User resource type: core User plus the Enterprise User extension and the custom attributes' extension.
pub static USER: ResourceSchema = ResourceSchema {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    core: &USER_SCHEMA,
    extensions: &[
        SchemaExtension {
            schema: &ENTERPRISE_USER_SCHEMA,
            required: false,
        },
        // Its attributes are the org's declarations (`custom`); discovery lists it only when there are some.
        SchemaExtension {
            schema: &CUSTOM_USER_SCHEMA,
            required: false,
        },
    ],
    members_as_rows: false,
};

/// The Group resource type. Members are rows, not part of the stored document.
pub static GROUP: ResourceSchema = ResourceSchema {
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    core: &GROUP_SCHEMA,
    extensions: &[],
    members_as_rows: true,
};

/// The two resource types scimd serves, as a value: the one "User or Group" enum of the workspace (list
/// endpoints, filter translation, group member entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl ResourceKind {
    /// The resource type's schemas.
    pub fn schema(self) -> &'static ResourceSchema {
        match self {
            Self::User => &USER,
            Self::Group => &GROUP,
        }
    }

    /// The resource type name, also `meta.resourceType` and a member's `type`: `User`, `Group`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// The endpoint segment after the base URL: `Users`, `Groups`.
    pub const fn endpoint_segment(self) -> &'static str {
        match self {
            Self::User => "Users",
            Self::Group => "Groups",
        }
    }
}

/// The resource types scimd serves.
pub fn resource_schemas() -> [&'static ResourceSchema; 2] {
    [&USER, &GROUP]
}

/// Every schema scimd publishes in `/Schemas`.
pub fn all_schemas() -> [&'static SchemaDef; 3] {
    [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_found_case_insensitively() {
        let loc = USER.attribute(None, "USERNAME").map(|l| l.def.name);
        assert_eq!(loc, Some("userName"));
        let loc = USER.attribute(Some("urn:ietf:params:scim:schemas:core:2.0:user"), "emails");
        assert_eq!(loc.map(|l| l.namespace), Some(Namespace::Core));
        let loc = USER.attribute(Some(ENTERPRISE_USER_URN), "employeenumber");
        assert_eq!(
            loc.map(|l| l.canonical_name()).as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
        );
        assert!(USER.attribute(None, "employeeNumber").is_none());
        assert!(GROUP.attribute(None, "userName").is_none());
        assert_eq!(
            GROUP.attribute(None, "ID").map(|l| l.namespace),
            Some(Namespace::Common)
        );
    }

    #[test]
    fn resource_kinds_name_their_schema() {
        assert_eq!(ResourceKind::User.schema().name, ResourceKind::User.name());
        assert_eq!(ResourceKind::Group.schema().name, ResourceKind::Group.name());
        assert_eq!(
            ResourceKind::Group.schema().endpoint,
            format!("/{}", ResourceKind::Group.endpoint_segment())
        );
        assert_eq!(
            ResourceKind::User.schema().endpoint,
            format!("/{}", ResourceKind::User.endpoint_segment())
        );
    }

    #[test]
    fn user_schema_has_every_rfc_7643_attribute() {
        for name in [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
        ] {
            assert!(USER_SCHEMA.attribute(name).is_some(), "{name} missing");
        }
    }
}
