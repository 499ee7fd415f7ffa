//! Resource documents: validation of a create (POST) or replace (PUT) body into the canonical document the
//! store keeps ([`validate`]), read accessors the store needs ([`user::UserView`], [`group::GroupView`]),
//! `meta` ([`meta`]) and group member entries ([`group`]).
//!
//! The canonical document uses the schema's spelling for every defined attribute, has `schemas` listing
//! the core schema and every extension present, and never contains readOnly input (RFC 7644 §3.3 says to
//! ignore it), nor `password` (scimd signs in through SSO only and never stores a password), nor a Group's
//! `members` (rows in the store).

pub mod group;
pub mod meta;
pub mod user;

use crate::dialect::{Dialect, Dialects};
use crate::error::ScimError;
use crate::filter::AttrPath;
use crate::json::{get_ci, is_urn_key, key_ci, remove_ci};
use crate::schema::{Mutability, Namespace, ResourceSchema};
use crate::values::{coerce, describe};
use serde_json::{Map, Value};

/// A validated create or replace body.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The canonical document to store.
    pub doc: Value,
    /// For a resource type whose members are rows: the member ids of the body (`None` when the body has
    /// no `members`, which on replace means "no members" per RFC 7644 §3.5.1).
    pub members: Option<Vec<String>>,
    /// The dialect rules that fired.
    pub dialects: Vec<Dialect>,
}

/// Validates a POST or PUT body for `schema`: `schemas` must name the core schema, required attributes
/// must be present, values must have their attribute's type (string booleans `"True"`/`"False"`
/// accepted). readOnly attributes are ignored, unknown core attributes are dropped, and extension objects
/// are kept, their undefined attributes verbatim.
pub fn validate(body: &Value, schema: &ResourceSchema) -> Result<Validated, ScimError> {
    let Value::Object(input) = body else {
        return Err(ScimError::invalid_syntax(format!(
            "The {} must be a JSON object.",
            schema.name
        )));
    };
    let declares_core = get_ci(input, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| schema.is_core_urn(u)))
        });
    if !declares_core {
        return Err(ScimError::invalid_syntax(format!(
            "\"schemas\" must list \"{}\" for a {}.",
            schema.core.id, schema.name
        )));
    }
    let mut dialects = Dialects::default();
    let mut doc = Map::new();
    let mut members = None;
    for (key, v) in input {
        if key.eq_ignore_ascii_case("schemas") || v.is_null() {
            continue;
        }
        if let Some(ext) = schema.extension(key) {
            let Value::Object(inner) = v else {
                return Err(ScimError::invalid_value(format!(
                    "\"{}\" must be an object, not {}.",
                    ext.id,
                    describe(v)
                )));
            };
            let mut out = Map::new();
            for (k, iv) in inner {
                match ext.attribute(k) {
                    Some(def) if def.mutability == Mutability::ReadOnly => {}
                    Some(def) => {
                        let name = format!("{}:{}", ext.id, def.name);
                        let c = coerce(def, iv.clone(), &name, &mut dialects)?;
                        if !unassigned(&c) {
                            out.insert(def.name.to_owned(), c);
                        }
                    }
                    None => {
                        out.insert(k.clone(), iv.clone());
                    }
                }
            }
            let slot = doc
                .entry(ext.id.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(o) = slot.as_object_mut() {
                o.extend(out);
            }
            continue;
        }
        let parsed = AttrPath::parse(key).ok().filter(|p| p.sub_attr.is_none());
        let loc = parsed
            .as_ref()
            .and_then(|p| schema.attribute(p.urn.as_deref(), &p.attr));
        let Some(loc) = loc else {
            if is_urn_key(key) && v.is_object() {
                // An extension scimd does not define: kept verbatim so that it survives a round trip.
                doc.insert(key.clone(), v.clone());
            }
            continue;
        };
        if schema.members_as_rows && loc.def.name == "members" && loc.namespace == Namespace::Core {
            members = Some(member_ids(v)?);
            continue;
        }
        if loc.def.mutability == Mutability::ReadOnly {
            continue;
        }
        let c = coerce(loc.def, v.clone(), &loc.canonical_name(), &mut dialects)?;
        if unassigned(&c) {
            continue;
        }
        match loc.namespace {
            Namespace::Extension(s) => {
                let slot = doc
                    .entry(s.id.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(o) = slot.as_object_mut() {
                    o.insert(loc.def.name.to_owned(), c);
                }
            }
            Namespace::Common | Namespace::Core => {
                doc.insert(loc.def.name.to_owned(), c);
            }
        }
    }
    check_required(&doc, schema)?;
    finish_document(&mut doc, schema);
    crate::limits::check_document(&doc, schema)?;
    Ok(Validated {
        doc: Value::Object(doc),
        members,
        dialects: dialects.0,
    })
}

/// RFC 7643 §2.5: null and an empty array are unassigned.
fn unassigned(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

fn member_ids(v: &Value) -> Result<Vec<String>, ScimError> {
    let Value::Array(items) = v else {
        return Err(ScimError::invalid_value(
            "\"members\" must be a list of {\"value\": id}.",
        ));
    };
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        match item.as_object().and_then(|o| get_ci(o, "value")) {
            Some(Value::String(id)) if !id.is_empty() => {
                crate::limits::check_member_id(id)?;
                if seen.insert(id.as_str()) {
                    ids.push(id.clone());
                }
            }
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "Each member must be an object with a non-empty string \"value\"; got {}.",
                    describe(item)
                )));
            }
        }
    }
    Ok(ids)
}

fn check_required(doc: &Map<String, Value>, schema: &ResourceSchema) -> Result<(), ScimError> {
    for loc in schema.all_attributes() {
        if !loc.def.required {
            continue;
        }
        let present = match loc.namespace {
            Namespace::Extension(s) => doc.get(s.id).and_then(|e| e.get(loc.def.name)),
            Namespace::Common | Namespace::Core => doc.get(loc.def.name),
        }
        .is_some_and(crate::json::is_assigned);
        if !present {
            return Err(ScimError::invalid_value(format!(
                "\"{}\" is required for a {}.",
                loc.canonical_name(),
                schema.name
            )));
        }
    }
    Ok(())
}

/// Brings a document to canonical form after an edit: no writeOnly attributes, no empty extension
/// objects, `schemas` listing the core schema and exactly the extensions present.
pub(crate) fn finish_document(doc: &mut Map<String, Value>, schema: &ResourceSchema) {
    for loc in schema.all_attributes() {
        if loc.def.mutability == Mutability::WriteOnly && loc.namespace != Namespace::Common {
            remove_ci(doc, loc.def.name);
        }
    }
    let mut schemas = vec![Value::String(schema.core.id.to_owned())];
    for ext in schema.extensions {
        let Some(k) = key_ci(doc, ext.schema.id) else {
            continue;
        };
        let empty = doc
            .get(&k)
            .is_none_or(|v| v.as_object().is_none_or(Map::is_empty));
        if empty {
            doc.remove(&k);
        } else {
            schemas.push(Value::String(ext.schema.id.to_owned()));
        }
    }
    for (k, v) in doc.iter() {
        if is_urn_key(k) && v.is_object() && schema.extension(k).is_none() {
            schemas.push(Value::String(k.clone()));
        }
    }
    doc.insert("schemas".to_owned(), Value::Array(schemas));
}
