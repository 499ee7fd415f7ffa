//! The PATCH engine (RFC 7644 §3.5.2): [`apply`] runs a [`PatchRequest`] on a copy of a resource document
//! and commits only if every operation succeeds.
//!
//! - [`request`]: the request body types.
//! - `target`: what a path designates in the schema.
//! - `ops`: the add / replace / remove rules.
//! - [`members`]: group membership as a [`MembersDelta`], never a rewritten member list.
//! - [`crate::dialect`]: the IdP behaviours accepted, reported in [`PatchOutcome::dialects`].

pub mod members;
mod ops;
pub mod request;
mod target;

/// The dialect rules moved to [`crate::dialect`]; re-exported here so that `patch::Dialect` still names them.
pub use crate::dialect::Dialect;
pub use members::MembersDelta;
pub use request::{OpKind, PATCH_OP_URN, PatchOperation, PatchRequest};

use crate::dialect::Dialects;
use crate::error::ScimError;
use crate::filter::AttrPath;
use crate::json::get_ci;
use crate::limits;
use crate::path::{self, PatchPath};
use crate::schema::{Mutability, ResourceKind, ResourceSchema};
use crate::work;
use serde_json::{Map, Value};
use target::{Target, current, is_members, resolve_target};

/// What a successful PATCH did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchOutcome {
    /// Whether the document or the membership changed (the version and `lastModified` then move on).
    pub changed: bool,
    /// The dialect rules that fired, each once, in the order they first fired.
    pub dialects: Vec<Dialect>,
    /// For a resource type whose members are rows: the membership delta, when any operation touched
    /// `members`.
    pub members: Option<MembersDelta>,
}

/// Applies `req` to `doc`, a resource document of type `schema` (for Groups, without `members`).
/// All-or-nothing: on error `doc` is untouched.
pub fn apply(
    doc: &mut Value,
    req: &PatchRequest,
    schema: &ResourceSchema,
) -> Result<PatchOutcome, ScimError> {
    if !req.schemas.iter().any(|s| s.eq_ignore_ascii_case(PATCH_OP_URN)) {
        return Err(ScimError::invalid_syntax(format!(
            "A PATCH body must list \"{PATCH_OP_URN}\" in \"schemas\"."
        )));
    }
    if req.operations.is_empty() {
        return Err(ScimError::invalid_syntax(
            "A PATCH body needs at least one operation in \"Operations\".",
        ));
    }
    let n = req.operations.len();
    if n > limits::MAX_PATCH_OPERATIONS {
        return Err(ScimError::too_many(format!(
            "One PATCH may carry at most {} operations; this one has {n} (MAX_PATCH_OPERATIONS).",
            limits::MAX_PATCH_OPERATIONS
        )));
    }
    let Value::Object(original) = &*doc else {
        return Err(ScimError::internal("The stored resource is not a JSON object."));
    };
    let mut engine = Engine {
        schema,
        root: original.clone(),
        dialects: Dialects::default(),
        members: None,
    };
    for (i, op) in req.operations.iter().enumerate() {
        work::add(1);
        engine.operation(op).map_err(|mut e| {
            let path = op
                .path
                .as_deref()
                .map(|p| format!(" \"{}\"", truncate(p)))
                .unwrap_or_default();
            e.detail = format!("Operation {} ({}{path}): {}", i + 1, truncate(&op.op), e.detail);
            e
        })?;
    }
    crate::resources::finish_document(&mut engine.root, schema);
    // A document stored before the limits existed may already be over one; it stays patchable (an IdP
    // must still be able to deactivate that user), so only a document that was within the limits must
    // stay within them.
    if let Err(e) = limits::check_document(&engine.root, schema)
        && limits::check_document(original, schema).is_ok()
    {
        return Err(e);
    }
    let members = engine.members.map(members::DeltaBuilder::finish);
    let changed = engine.root != *original || members.as_ref().is_some_and(|m| !m.is_empty());
    *doc = Value::Object(engine.root);
    Ok(PatchOutcome {
        changed,
        dialects: engine.dialects.0,
        members,
    })
}

/// Applies `req` to a stored document of `kind` whose id is `id`, which the store keeps outside the
/// document. The engine sees `id` while it works, so that a path-less value echoing it (Okta sends `id` when
/// it renames a group) is recognised as unchanged rather than refused as a readOnly change; `id` is then
/// taken out again (or put back as it was, if the document had one). All-or-nothing like [`apply`].
pub fn apply_to_stored(
    doc: &mut Value,
    id: &str,
    req: &PatchRequest,
    kind: ResourceKind,
) -> Result<PatchOutcome, ScimError> {
    let Some(obj) = doc.as_object_mut() else {
        return Err(ScimError::internal("The stored resource is not a JSON object."));
    };
    let previous = obj.insert("id".to_owned(), Value::String(id.to_owned()));
    let result = apply(doc, req, kind.schema());
    if let Some(obj) = doc.as_object_mut() {
        match previous {
            Some(p) => {
                obj.insert("id".to_owned(), p);
            }
            None => {
                obj.remove("id");
            }
        }
    }
    result
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_owned()
    } else {
        format!("{}...", s.chars().take(80).collect::<String>())
    }
}

struct Engine<'s> {
    schema: &'s ResourceSchema,
    root: Map<String, Value>,
    dialects: Dialects,
    members: Option<members::DeltaBuilder>,
}

impl Engine<'_> {
    fn operation(&mut self, op: &PatchOperation) -> Result<(), ScimError> {
        let (kind, unusual_case) = op.kind()?;
        if unusual_case {
            self.dialects.note(Dialect::CaseInsensitiveOp);
        }
        match op.path.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => {
                let path = path::parse(p)?;
                self.at_path(kind, &path, op.value.clone(), false)
            }
            _ => self.pathless(kind, op.value.clone()),
        }
    }

    fn at_path(
        &mut self,
        kind: OpKind,
        path: &PatchPath,
        value: Option<Value>,
        pathless: bool,
    ) -> Result<(), ScimError> {
        if is_members(path, self.schema) {
            let delta = self.members.get_or_insert_with(members::DeltaBuilder::default);
            return delta.apply(kind, Some(path), value, &mut self.dialects);
        }
        if let Some(v) = &value {
            limits::check_input(v, &path.to_string())?;
        }
        let target = resolve_target(path, self.schema, &self.root)?;
        let touched = target.top_key();
        // As for the whole document: an attribute already over a limit (stored before the limits) is
        // not held to it.
        let was_within = limits::check_touched(&self.root, &touched).is_ok();
        if pathless
            && let Target::Attr {
                loc,
                sub: None,
                filter: None,
                ..
            } = &target
            && loc.def.mutability == Mutability::ReadOnly
        {
            let same = value
                .as_ref()
                .is_some_and(|v| current(&self.root, *loc) == Some(v));
            if same {
                self.dialects.note(Dialect::ReadOnlyEchoIgnored);
                return Ok(());
            }
        }
        ops::apply_target(&mut self.root, kind, target, value, &mut self.dialects)?;
        if was_within {
            limits::check_touched(&self.root, &touched)?;
        }
        Ok(())
    }

    /// RFC 7644 §3.5.2.1/3: without `path`, the value is an object naming the attributes to add or replace.
    fn pathless(&mut self, kind: OpKind, value: Option<Value>) -> Result<(), ScimError> {
        if kind == OpKind::Remove {
            return Err(ScimError::no_target(
                "A remove operation needs a \"path\" naming what to remove.",
            ));
        }
        let Some(Value::Object(obj)) = value else {
            return Err(ScimError::invalid_value(format!(
                "Without \"path\", the {} operation's \"value\" must be an object of attributes.",
                kind.as_str()
            )));
        };
        self.dialects.note(Dialect::PathlessOperation);
        if obj.len() > limits::MAX_OBJECT_MEMBERS {
            return Err(ScimError::too_many(format!(
                "The value names {} attributes; the limit (MAX_OBJECT_MEMBERS) is {}.",
                obj.len(),
                limits::MAX_OBJECT_MEMBERS
            )));
        }
        for (key, v) in obj {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(ext) = self.schema.extension(&key) {
                let Value::Object(inner) = v else {
                    let target = Target::Extension(ext);
                    ops::apply_target(&mut self.root, kind, target, Some(v), &mut self.dialects)?;
                    continue;
                };
                if inner.len() > limits::MAX_OBJECT_MEMBERS {
                    return Err(ScimError::too_many(format!(
                        "The value for \"{}\" names {} attributes; the limit (MAX_OBJECT_MEMBERS) is {}.",
                        ext.id,
                        inner.len(),
                        limits::MAX_OBJECT_MEMBERS
                    )));
                }
                for (k, iv) in inner {
                    let mut attr = AttrPath::parse(&k).map_err(|e| {
                        ScimError::invalid_path(format!("In the value for \"{}\": {e}.", ext.id))
                    })?;
                    if attr.urn.is_some() {
                        return Err(ScimError::invalid_path(format!(
                            "In the value for \"{}\", \"{k}\" must be an attribute name, not a URN.",
                            ext.id
                        )));
                    }
                    if attr.sub_attr.is_some() {
                        self.dialects.note(Dialect::PathlessDottedKey);
                    }
                    attr.urn = Some(ext.id.to_owned());
                    self.at_path(kind, &PatchPath { attr, filter: None }, Some(iv), true)?;
                }
                continue;
            }
            let path = path::parse(&key).map_err(|e| {
                ScimError::invalid_path(format!("The value key \"{}\": {}", truncate(&key), e.detail))
            })?;
            if path.filter.is_some() {
                return Err(ScimError::invalid_path(format!(
                    "The value key \"{}\" contains a filter; use \"path\" for that.",
                    truncate(&key)
                )));
            }
            if path.attr.sub_attr.is_some() {
                self.dialects.note(Dialect::PathlessDottedKey);
            }
            if path.attr.urn.is_some() {
                self.dialects.note(Dialect::PathlessExtensionUrnKey);
            }
            self.at_path(kind, &path, Some(v), true)?;
        }
        Ok(())
    }
}

/// The current value of the top-level attribute `name` (unqualified) of `doc`, for callers comparing a
/// document before and after a PATCH (e.g. `active`).
pub fn top_level<'d>(doc: &'d Value, name: &str) -> Option<&'d Value> {
    doc.as_object().and_then(|o| get_ci(o, name))
}
