//! The add / replace / remove rules of RFC 7644 §3.5.2.1–3 applied to one resolved [`Target`] of a
//! document (a JSON object being edited on a copy).

use super::request::OpKind;
use super::target::Target;
use crate::dialect::{Dialect, Dialects};
use crate::distinct::Distinct;
use crate::error::ScimError;
use crate::filter::CompareOp;
use crate::filter::in_memory::matches_element;
use crate::filter::resolve::{ResolvedFilter, TypedValue};
use crate::json::{get_mut_canonical, key_ci, remove_ci, set_canonical};
use crate::schema::{AttrLocation, AttributeDef, Mutability, Namespace, SchemaDef};
use crate::values::{coerce, coerce_single, normalise_primary};
use crate::work;
use serde_json::{Map, Value};

type Obj = Map<String, Value>;

/// Applies one operation. `value` is `None` when the request had no `value` member.
pub(crate) fn apply_target(
    root: &mut Obj,
    kind: OpKind,
    target: Target,
    value: Option<Value>,
    dialects: &mut Dialects,
) -> Result<(), ScimError> {
    let (kind, value) = match (kind, value) {
        // RFC 7643 §2.5: null is unassigned, so adding or replacing with null removes.
        (OpKind::Add | OpKind::Replace, Some(Value::Null)) => (OpKind::Remove, None),
        (OpKind::Add | OpKind::Replace, None) => {
            return Err(ScimError::invalid_value(format!(
                "The {} operation needs a \"value\".",
                kind.as_str()
            )));
        }
        (k, v) => (k, v),
    };
    match target {
        Target::Attr {
            loc,
            sub,
            filter,
            name,
        } => {
            check_mutability(kind, loc, sub, filter.is_some(), &name)?;
            match filter {
                None => plain(root, kind, loc, sub, value, &name, dialects),
                Some(f) => filtered(root, kind, loc, sub, &f, value, &name, dialects),
            }
        }
        Target::Extension(ext) => extension(root, kind, ext, value, dialects),
        Target::Raw { urn, attr, sub } => {
            raw(root, kind, &urn, &attr, sub.as_deref(), value);
            Ok(())
        }
    }
}

fn check_mutability(
    kind: OpKind,
    loc: AttrLocation,
    sub: Option<&AttributeDef>,
    filtered: bool,
    name: &str,
) -> Result<(), ScimError> {
    if loc.def.mutability == Mutability::ReadOnly || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return Err(ScimError::mutability(format!(
            "\"{name}\" is read-only: the service provider sets it, so it cannot be changed with PATCH."
        )));
    }
    if kind == OpKind::Remove && loc.def.required && sub.is_none() && !filtered {
        return Err(ScimError::mutability(format!(
            "\"{name}\" is required, so it cannot be removed."
        )));
    }
    Ok(())
}

/// The object holding the attribute: the root, or the extension's object (created when `create`).
fn container(root: &mut Obj, ns: Namespace, create: bool) -> Option<&mut Obj> {
    let Namespace::Extension(s) = ns else {
        return Some(root);
    };
    if create && key_ci(root, s.id).is_none() {
        root.insert(s.id.to_owned(), Value::Object(Map::new()));
    }
    let v = get_mut_canonical(root, s.id)?;
    if !v.is_object() {
        if !create {
            return None;
        }
        *v = Value::Object(Map::new());
    }
    v.as_object_mut()
}

/// A path without a value filter: `attr` or `attr.sub`.
fn plain(
    root: &mut Obj,
    kind: OpKind,
    loc: AttrLocation,
    sub: Option<&'static AttributeDef>,
    value: Option<Value>,
    name: &str,
    dialects: &mut Dialects,
) -> Result<(), ScimError> {
    let def = loc.def;
    if kind == OpKind::Remove {
        let Some(c) = container(root, loc.namespace, false) else {
            return Ok(());
        };
        match sub {
            None => {
                remove_ci(c, def.name);
            }
            Some(s) => {
                if let Some(cur) = get_mut_canonical(c, def.name) {
                    for_each_value(cur, |v| {
                        if let Some(o) = v.as_object_mut() {
                            remove_ci(o, s.name);
                        }
                    });
                    prune(c, def.name);
                }
            }
        }
        return Ok(());
    }
    let value = value.unwrap_or(Value::Null);
    let new = match sub {
        Some(s) => coerce(s, value, name, dialects)?,
        None => coerce(def, value, name, dialects)?,
    };
    let c = container(root, loc.namespace, true).ok_or_else(|| ScimError::internal("no container"))?;
    match sub {
        None if def.multi_valued => {
            let Value::Array(new_items) = new else {
                return Ok(());
            };
            if kind == OpKind::Replace {
                set_canonical(c, def.name, Value::Array(new_items));
            } else {
                let cur = get_mut_canonical(c, def.name);
                let mut items = match cur.map(Value::take) {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                if new_items.iter().any(is_primary) {
                    items.iter_mut().for_each(clear_primary);
                }
                let mut merged = Distinct::from_items(items);
                for v in new_items {
                    merged.push(v);
                }
                let mut items = merged.into_vec();
                normalise_primary(&mut items);
                set_canonical(c, def.name, Value::Array(items));
            }
        }
        None if def.is_complex() => {
            let Value::Object(new_obj) = new else {
                return Ok(());
            };
            if let Some(slot) = entry_object(c, def.name) {
                // `value` identifies a complex value (a manager's id): when it changes, the other
                // sub-attributes (`displayName`, `$ref`) described the old one and go with it.
                if new_obj
                    .get("value")
                    .is_some_and(|v| slot.get("value").is_some_and(|old| old != v))
                {
                    slot.clear();
                }
                slot.extend(new_obj);
            }
        }
        None => set_canonical(c, def.name, new),
        Some(s) if def.multi_valued => {
            let existing = get_mut_canonical(c, def.name).and_then(Value::as_array_mut);
            match existing {
                Some(items) if !items.is_empty() => {
                    for item in items.iter_mut() {
                        if let Some(o) = item.as_object_mut() {
                            o.insert(s.name.to_owned(), new.clone());
                        }
                    }
                }
                _ => {
                    let mut o = Map::new();
                    o.insert(s.name.to_owned(), new);
                    set_canonical(c, def.name, Value::Array(vec![Value::Object(o)]));
                }
            }
        }
        Some(s) => {
            if let Some(slot) = entry_object(c, def.name) {
                slot.insert(s.name.to_owned(), new);
            }
        }
    }
    prune(c, def.name);
    Ok(())
}

/// A value path: `attr[filter]` or `attr[filter].sub`.
#[expect(
    clippy::too_many_arguments,
    reason = "one place that needs the whole operation"
)]
fn filtered(
    root: &mut Obj,
    kind: OpKind,
    loc: AttrLocation,
    sub: Option<&'static AttributeDef>,
    filter: &ResolvedFilter,
    value: Option<Value>,
    name: &str,
    dialects: &mut Dialects,
) -> Result<(), ScimError> {
    let def = loc.def;
    let new = match (kind, sub) {
        (OpKind::Remove, _) => Value::Null,
        (_, Some(s)) => coerce(s, value.unwrap_or(Value::Null), name, dialects)?,
        (_, None) => coerce_single(def, value.unwrap_or(Value::Null), name, dialects)?,
    };
    let c = match container(root, loc.namespace, kind == OpKind::Add) {
        Some(c) => c,
        None if kind == OpKind::Remove => return Ok(()),
        None => return Err(no_match(def, filter, name)),
    };
    let mut items = match get_mut_canonical(c, def.name).map(Value::take) {
        Some(Value::Array(a)) => a,
        Some(other) if !other.is_null() => vec![other],
        _ => Vec::new(),
    };
    let hit: Vec<bool> = items.iter().map(|v| matches_element(filter, v)).collect();
    let result = edit_items(&mut items, &hit, kind, sub, new, filter, def, name, dialects);
    set_canonical(c, def.name, Value::Array(items));
    prune(c, def.name);
    result
}

#[expect(
    clippy::too_many_arguments,
    reason = "one place that needs the whole operation"
)]
/// `hit[i]` says whether `items[i]` matches the filter (one flag per item, so each test is constant time).
fn edit_items(
    items: &mut Vec<Value>,
    hit: &[bool],
    kind: OpKind,
    sub: Option<&'static AttributeDef>,
    new: Value,
    filter: &ResolvedFilter,
    def: &AttributeDef,
    name: &str,
    dialects: &mut Dialects,
) -> Result<(), ScimError> {
    match kind {
        OpKind::Remove => {
            match sub {
                None => {
                    let mut flags = hit.iter();
                    items.retain(|_| {
                        work::add(1);
                        !flags.next().copied().unwrap_or(false)
                    });
                }
                Some(s) => {
                    for (item, _) in items.iter_mut().zip(hit).filter(|(_, h)| **h) {
                        work::add(1);
                        if let Some(o) = item.as_object_mut() {
                            remove_ci(o, s.name);
                        }
                    }
                }
            }
            return Ok(());
        }
        OpKind::Add | OpKind::Replace if !hit.contains(&true) => {
            if kind == OpKind::Replace {
                return Err(no_match(def, filter, name));
            }
            let Some(mut created) = element_from_filter(filter) else {
                return Err(no_match(def, filter, name));
            };
            match (sub, new) {
                (Some(s), v) => {
                    created.insert(s.name.to_owned(), v);
                }
                (None, Value::Object(o)) => created.extend(o),
                (None, _) => {}
            }
            dialects.note(Dialect::AddCreatesValuePathElement);
            let created = Value::Object(created);
            if is_primary(&created) {
                items.iter_mut().for_each(clear_primary);
            }
            items.push(created);
        }
        OpKind::Add | OpKind::Replace => {
            for (item, _) in items.iter_mut().zip(hit).filter(|(_, h)| **h) {
                work::add(1);
                match (sub, &new) {
                    (Some(s), v) => {
                        if let Some(o) = item.as_object_mut() {
                            o.insert(s.name.to_owned(), v.clone());
                        }
                    }
                    (None, Value::Object(n)) if kind == OpKind::Add => {
                        if let Some(o) = item.as_object_mut() {
                            o.extend(n.clone());
                        }
                    }
                    (None, v) => *item = v.clone(),
                }
            }
            if items.iter().zip(hit).any(|(item, h)| *h && is_primary(item)) {
                for (item, _) in items.iter_mut().zip(hit).filter(|(_, h)| !**h) {
                    work::add(1);
                    clear_primary(item);
                }
            }
        }
    }
    normalise_primary(items);
    Ok(())
}

fn no_match(def: &AttributeDef, filter: &ResolvedFilter, name: &str) -> ScimError {
    let _ = filter;
    ScimError::no_target(format!(
        "No value of \"{}\" matches the filter in the path \"{name}\", so there is nothing to change.",
        def.name
    ))
}

/// The value an `eq`-only filter describes (`type eq "work" and primary eq true`), for `add` to create.
fn element_from_filter(filter: &ResolvedFilter) -> Option<Obj> {
    let mut out = Map::new();
    fn walk(f: &ResolvedFilter, out: &mut Obj) -> Option<()> {
        match f {
            ResolvedFilter::And(a, b) => {
                walk(a, out)?;
                walk(b, out)
            }
            ResolvedFilter::Compare {
                attr,
                op: CompareOp::Eq,
                value,
            } => {
                let v = match value {
                    TypedValue::String(s) => Value::String(s.clone()),
                    TypedValue::Boolean(b) => Value::Bool(*b),
                    TypedValue::Integer(i) => Value::from(*i),
                    TypedValue::Decimal(d) => serde_json::Number::from_f64(*d).map(Value::Number)?,
                    TypedValue::DateTime(t) => Value::String(t.to_rfc3339()),
                    TypedValue::Null => return None,
                };
                out.insert(attr.sub_attr?.name.to_owned(), v);
                Some(())
            }
            _ => None,
        }
    }
    walk(filter, &mut out)?;
    Some(out)
}

/// The whole object of an extension.
fn extension(
    root: &mut Obj,
    kind: OpKind,
    ext: &'static SchemaDef,
    value: Option<Value>,
    dialects: &mut Dialects,
) -> Result<(), ScimError> {
    if kind == OpKind::Remove {
        remove_ci(root, ext.id);
        return Ok(());
    }
    let Some(Value::Object(obj)) = value else {
        return Err(ScimError::invalid_value(format!(
            "The value for \"{}\" must be an object.",
            ext.id
        )));
    };
    for (k, v) in obj {
        let target = match ext.attribute(&k) {
            Some(def) => {
                let loc = AttrLocation {
                    namespace: Namespace::Extension(ext),
                    def,
                };
                Target::Attr {
                    loc,
                    sub: None,
                    filter: None,
                    name: loc.canonical_name(),
                }
            }
            None => Target::Raw {
                urn: ext.id.to_owned(),
                attr: k,
                sub: None,
            },
        };
        apply_target(root, kind, target, Some(v), dialects)?;
    }
    Ok(())
}

/// An attribute scimd does not define: stored and removed verbatim.
fn raw(root: &mut Obj, kind: OpKind, urn: &str, attr: &str, sub: Option<&str>, value: Option<Value>) {
    if kind == OpKind::Remove {
        let Some(Value::Object(c)) = get_mut_canonical(root, urn) else {
            return;
        };
        match sub {
            None => {
                remove_ci(c, attr);
            }
            Some(s) => {
                if let Some(Value::Object(o)) = get_mut_canonical(c, attr) {
                    remove_ci(o, s);
                }
                prune(c, attr);
            }
        }
        return;
    }
    let value = value.unwrap_or(Value::Null);
    if key_ci(root, urn).is_none() {
        root.insert(urn.to_owned(), Value::Object(Map::new()));
    }
    let Some(slot) = get_mut_canonical(root, urn) else {
        return;
    };
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let Some(c) = slot.as_object_mut() else { return };
    match sub {
        None => set_canonical(c, attr, value),
        Some(s) => {
            if let Some(slot) = entry_object(c, attr) {
                slot.insert(s.to_owned(), value);
            }
        }
    }
}

/// The object under `key`, created (or made an object) if needed.
fn entry_object<'c>(c: &'c mut Obj, key: &str) -> Option<&'c mut Obj> {
    let obj = match remove_ci(c, key) {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    };
    c.insert(key.to_owned(), Value::Object(obj));
    c.get_mut(key).and_then(Value::as_object_mut)
}

/// Removes `key` when it became unassigned: empty array, empty object, or array of empty objects dropped.
pub(crate) fn prune(c: &mut Obj, key: &str) {
    let Some(v) = get_mut_canonical(c, key) else {
        return;
    };
    if let Value::Array(items) = v {
        items.retain(|i| !matches!(i, Value::Object(o) if o.is_empty()) && !i.is_null());
    }
    let empty = match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => true,
        _ => false,
    };
    if empty {
        c.remove(key);
    }
}

fn for_each_value(v: &mut Value, mut f: impl FnMut(&mut Value)) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(f),
        other => f(other),
    }
}

fn is_primary(v: &Value) -> bool {
    v.get("primary") == Some(&Value::Bool(true))
}

fn clear_primary(v: &mut Value) {
    if let Some(p) = v.as_object_mut().and_then(|o| o.get_mut("primary"))
        && *p == Value::Bool(true)
    {
        *p = Value::Bool(false);
    }
}
