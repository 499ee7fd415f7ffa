//! What a PATCH path designates in a resource type: a schema attribute (with its sub-attribute and value
//! filter resolved), a whole extension object, or an attribute of an extension that scimd does not define
//! (kept verbatim so that it survives a round trip).

use crate::error::{ScimError, ScimType};
use crate::filter::resolve::{ResolvedFilter, resolve_value_filter};
use crate::json::field;
use crate::path::PatchPath;
use crate::schema::{AttrLocation, AttributeDef, Namespace, ResourceSchema, SchemaDef};
use serde_json::{Map, Value};

/// A resolved PATCH target.
#[derive(Debug)]
pub(crate) enum Target {
    /// A defined attribute.
    Attr {
        loc: AttrLocation,
        sub: Option<&'static AttributeDef>,
        filter: Option<ResolvedFilter>,
        /// The canonical path, for messages.
        name: String,
    },
    /// The whole object of a defined extension (`urn:...:enterprise:2.0:User`).
    Extension(&'static SchemaDef),
    /// An attribute scimd does not define, inside an extension object: stored verbatim.
    Raw {
        urn: String,
        attr: String,
        sub: Option<String>,
    },
}

impl Target {
    /// The top-level key of the document the target lives under (the attribute, or its extension's URN).
    pub(crate) fn top_key(&self) -> String {
        match self {
            Self::Attr { loc, .. } => match loc.namespace {
                Namespace::Extension(s) => s.id.to_owned(),
                Namespace::Common | Namespace::Core => loc.def.name.to_owned(),
            },
            Self::Extension(s) => s.id.to_owned(),
            Self::Raw { urn, .. } => urn.clone(),
        }
    }
}

fn in_schemas(doc: &Map<String, Value>, urn: &str) -> bool {
    doc.get("schemas").and_then(Value::as_array).is_some_and(|s| {
        s.iter()
            .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn)))
    })
}

/// Resolves `path` against `schema`; `doc` tells which undefined extensions the resource declares.
pub(crate) fn resolve_target(
    path: &PatchPath,
    schema: &ResourceSchema,
    doc: &Map<String, Value>,
) -> Result<Target, ScimError> {
    let attr = &path.attr;
    if let Some(urn) = &attr.urn
        && attr.sub_attr.is_none()
        && path.filter.is_none()
    {
        let whole = format!("{urn}:{}", attr.attr);
        if let Some(ext) = schema.extension(&whole) {
            return Ok(Target::Extension(ext));
        }
    }
    let Some(loc) = schema.attribute(attr.urn.as_deref(), &attr.attr) else {
        return raw_target(path, schema, doc);
    };
    let sub = match &attr.sub_attr {
        None => None,
        Some(s) => Some(loc.def.sub(s).ok_or_else(|| {
            ScimError::invalid_path(format!(
                "\"{}\" has no sub-attribute \"{s}\".",
                loc.canonical_name()
            ))
        })?),
    };
    let filter = match &path.filter {
        None => None,
        Some(f) => {
            if !(loc.def.is_complex() && loc.def.multi_valued) {
                return Err(ScimError::invalid_path(format!(
                    "\"{}\" is not a multi-valued complex attribute, so it cannot be filtered with '[...]'.",
                    loc.canonical_name()
                )));
            }
            Some(resolve_value_filter(f, schema, loc).map_err(|mut e| {
                e.scim_type = Some(ScimType::InvalidPath);
                e
            })?)
        }
    };
    let mut name = loc.canonical_name();
    if let Some(s) = sub {
        name = format!("{name}.{}", s.name);
    }
    Ok(Target::Attr {
        loc,
        sub,
        filter,
        name,
    })
}

fn raw_target(
    path: &PatchPath,
    schema: &ResourceSchema,
    doc: &Map<String, Value>,
) -> Result<Target, ScimError> {
    let attr = &path.attr;
    let unknown = || {
        ScimError::invalid_path(format!(
            "\"{path}\" is not an attribute of the {} resource type.",
            schema.name
        ))
    };
    let Some(urn) = &attr.urn else {
        return Err(unknown());
    };
    if schema.is_core_urn(urn) {
        return Err(unknown());
    }
    // An attribute scimd does not define, in an extension the resource type has or the resource declares.
    let declared =
        schema.extension(urn).is_some() || in_schemas(doc, urn) || crate::json::get_ci(doc, urn).is_some();
    if !declared {
        return Err(ScimError::invalid_path(format!(
            "\"{urn}\" is not a schema of this {} (in the path \"{path}\").",
            schema.name
        )));
    }
    if path.filter.is_some() {
        return Err(ScimError::invalid_path(format!(
            "\"{path}\" filters an attribute scimd does not define; filters need a defined multi-valued attribute."
        )));
    }
    let canonical_urn = schema
        .extension(urn)
        .map_or_else(|| urn.clone(), |s| s.id.to_owned());
    Ok(Target::Raw {
        urn: canonical_urn,
        attr: attr.attr.clone(),
        sub: attr.sub_attr.clone(),
    })
}

/// Whether `path` names the `members` attribute of a resource type that keeps members as rows.
pub(crate) fn is_members(path: &PatchPath, schema: &ResourceSchema) -> bool {
    schema.members_as_rows
        && path.attr.attr.eq_ignore_ascii_case("members")
        && path.attr.urn.as_deref().is_none_or(|u| schema.is_core_urn(u))
}

/// The attribute's current value in `doc`, if any.
pub(crate) fn current(doc: &Map<String, Value>, loc: AttrLocation) -> Option<&Value> {
    match loc.namespace {
        Namespace::Extension(s) => crate::json::get_ci(doc, s.id).and_then(|e| field(e, loc.def.name)),
        Namespace::Common | Namespace::Core => crate::json::get_ci(doc, loc.def.name),
    }
}
