//! The common attributes every resource carries (RFC 7643 §3, §3.1): `schemas`, `id`, `externalId`, `meta`. They belong to
//! no schema, so they are not published in `/Schemas`, but they are resolved, validated and projected like
//! any other attribute.

use super::attribute::{AttributeDef as A, Mutability, Returned, Uniqueness};

const META: &[A] = &[
    A::string("resourceType", "The name of the resource type of the resource.")
        .case_exact()
        .mutability(Mutability::ReadOnly),
    A::date_time("created", "The date and time the resource was added.").mutability(Mutability::ReadOnly),
    A::date_time(
        "lastModified",
        "The most recent date and time the resource was modified.",
    )
    .mutability(Mutability::ReadOnly),
    A::reference("location", &["uri"], "The URI of the resource being returned.")
        .case_exact()
        .mutability(Mutability::ReadOnly),
    A::string("version", "The version (ETag) of the resource being returned.")
        .case_exact()
        .mutability(Mutability::ReadOnly),
];

/// `schemas`, `id`, `externalId` and `meta`. `schemas` is maintained by scimd (it lists the extensions
/// present), so it is readOnly to PATCH; it can be filtered on (`schemas eq "urn:..."`, RFC 7644 §3.4.2.2).
pub static COMMON_ATTRIBUTES: &[A] = &[
    A::reference("schemas", &["uri"], "The schema URIs the resource conforms to.")
        .multi()
        .mutability(Mutability::ReadOnly)
        .returned(Returned::Always),
    A::string(
        "id",
        "A unique identifier for a SCIM resource as defined by the service provider.",
    )
    .case_exact()
    .mutability(Mutability::ReadOnly)
    .returned(Returned::Always)
    .uniqueness(Uniqueness::Server),
    A::string(
        "externalId",
        "An identifier for the resource as defined by the provisioning client.",
    )
    .case_exact(),
    A::complex("meta", META, "Resource metadata.").mutability(Mutability::ReadOnly),
];
