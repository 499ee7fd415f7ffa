//! Projection of a resource document for a response (RFC 7644 §3.4.2.5, §3.9): `attributes` and
//! `excludedAttributes`, honouring each attribute's `returned` (always / never / default / request).
//! `attributes` wins when both are given. Names are case-insensitive, may be URN-qualified, may name a
//! sub-attribute (`name.givenName`) or a whole extension; names that match nothing are ignored.
//!
//! A [`Selection`] is compiled once per request (each name parsed once, duplicates dropped) and applied to
//! every document of the response; [`project`] and [`is_requested`] compile one for a single use.

use crate::filter::AttrPath;
use crate::schema::{AttrLocation, AttributeDef, Namespace, ResourceSchema, Returned, SchemaDef};
use serde_json::{Map, Value};

#[derive(Debug, PartialEq)]
enum Entry {
    /// A defined attribute, optionally one sub-attribute of it.
    Attr {
        ns: Namespace,
        name: &'static str,
        sub: Option<String>,
    },
    /// A whole defined extension.
    Extension(&'static SchemaDef),
    /// Anything else, compared with top-level keys verbatim (case-insensitively).
    Key(String),
}

fn entries(schema: &ResourceSchema, names: &[String]) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let parsed = names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            crate::work::add(1);
            if let Some(ext) = schema.extension(n) {
                return Entry::Extension(ext);
            }
            let Ok(p) = AttrPath::parse(n) else {
                return Entry::Key(n.to_owned());
            };
            match schema.attribute(p.urn.as_deref(), &p.attr) {
                Some(loc) => Entry::Attr {
                    ns: loc.namespace,
                    name: loc.def.name,
                    sub: p.sub_attr,
                },
                None => Entry::Key(n.to_owned()),
            }
        });
    // The lists are short (the caller enforces `MAX_PROJECTION_ENTRIES`), so a linear check is enough;
    // names differing only in case are the same entry.
    for e in parsed {
        if !out.iter().any(|o| o.same(&e)) {
            out.push(e);
        }
    }
    out
}

impl Entry {
    fn same(&self, other: &Entry) -> bool {
        match (self, other) {
            (Entry::Key(a), Entry::Key(b)) => a.eq_ignore_ascii_case(b),
            (
                Entry::Attr { ns, name, sub },
                Entry::Attr {
                    ns: ns2,
                    name: name2,
                    sub: sub2,
                },
            ) => {
                ns == ns2
                    && name == name2
                    && match (sub, sub2) {
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        (a, b) => a.is_none() && b.is_none(),
                    }
            }
            (a, b) => a == b,
        }
    }
}

/// What to keep of one attribute.
#[derive(Debug, PartialEq)]
enum Keep {
    None,
    All,
    /// Only these sub-attributes (plus the `returned: always` ones).
    Subs(Vec<String>),
    /// Everything but these sub-attributes.
    AllBut(Vec<String>),
}

/// `attributes` / `excludedAttributes` compiled against a resource type: build it once per request and
/// apply it to every document with [`Selection::project`].
#[derive(Debug)]
pub struct Selection<'s> {
    schema: &'s ResourceSchema,
    attributes: Vec<Entry>,
    excluded: Vec<Entry>,
}

impl<'s> Selection<'s> {
    /// Parses the names once (comma-separated entries allowed), dropping duplicates. `attributes` wins:
    /// when it is given, `excluded` is ignored.
    pub fn new(schema: &'s ResourceSchema, attributes: &[String], excluded: &[String]) -> Self {
        let attributes = entries(schema, attributes);
        let excluded = if attributes.is_empty() {
            entries(schema, excluded)
        } else {
            Vec::new()
        };
        Self {
            schema,
            attributes,
            excluded,
        }
    }

    /// The number of distinct entries kept (of `attributes`, or else of `excludedAttributes`).
    pub fn len(&self) -> usize {
        self.attributes.len() + self.excluded.len()
    }

    /// Whether the selection keeps the default attributes (no entries).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a response includes any part of the top-level attribute `name` (such as `members` or
    /// `groups`), so that the caller can skip loading what would be projected away.
    pub fn shows(&self, name: &str) -> bool {
        self.schema
            .attribute(None, name)
            .is_some_and(|loc| self.keep(loc) != Keep::None)
    }

    fn keep(&self, loc: AttrLocation) -> Keep {
        let def = loc.def;
        match def.returned {
            Returned::Never => return Keep::None,
            Returned::Always => return Keep::All,
            Returned::Default | Returned::Request => {}
        }
        let whole = |list: &[Entry]| {
            crate::work::add_len(list.len());
            list.iter().any(|e| match e {
                Entry::Attr { ns, name, sub: None } => *ns == loc.namespace && *name == def.name,
                Entry::Extension(s) => loc.namespace == Namespace::Extension(s),
                _ => false,
            })
        };
        let subs = |list: &[Entry]| -> Vec<String> {
            list.iter()
                .filter_map(|e| match e {
                    Entry::Attr {
                        ns,
                        name,
                        sub: Some(s),
                    } if *ns == loc.namespace && *name == def.name => Some(s.clone()),
                    _ => None,
                })
                .collect()
        };
        if !self.attributes.is_empty() {
            if whole(&self.attributes) {
                return Keep::All;
            }
            let s = subs(&self.attributes);
            return if s.is_empty() { Keep::None } else { Keep::Subs(s) };
        }
        if def.returned == Returned::Request || whole(&self.excluded) {
            return Keep::None;
        }
        let s = subs(&self.excluded);
        if s.is_empty() { Keep::All } else { Keep::AllBut(s) }
    }

    fn keep_key(&self, key: &str) -> bool {
        let named = |list: &[Entry]| {
            crate::work::add_len(list.len());
            list.iter()
                .any(|e| matches!(e, Entry::Key(k) if k.eq_ignore_ascii_case(key)))
        };
        if self.attributes.is_empty() {
            !named(&self.excluded)
        } else {
            named(&self.attributes)
        }
    }
}

/// The projection of `doc` (a full resource document of type `schema`) for a response. Compiles the
/// selection for this one document: for a list, build a [`Selection`] once and use [`Selection::project`].
pub fn project(doc: &Value, schema: &ResourceSchema, attributes: &[String], excluded: &[String]) -> Value {
    Selection::new(schema, attributes, excluded).project(doc)
}

impl Selection<'_> {
    /// The projection of `doc`, a full resource document of the selection's resource type.
    pub fn project(&self, doc: &Value) -> Value {
        project_with(doc, self.schema, self)
    }
}

fn project_with(doc: &Value, schema: &ResourceSchema, sel: &Selection<'_>) -> Value {
    let Value::Object(obj) = doc else {
        return doc.clone();
    };
    let mut out = Map::new();
    for (key, v) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert(key.clone(), v.clone());
            continue;
        }
        if let Some(ext) = schema.extension(key) {
            let Value::Object(inner) = v else { continue };
            let mut kept = Map::new();
            for (k, iv) in inner {
                match ext.attribute(k) {
                    Some(def) => {
                        let loc = AttrLocation {
                            namespace: Namespace::Extension(ext),
                            def,
                        };
                        if let Some(x) = apply_keep(def, sel.keep(loc), iv) {
                            kept.insert(k.clone(), x);
                        }
                    }
                    None => {
                        let qualified = format!("{}:{k}", ext.id);
                        let whole = sel.attributes.contains(&Entry::Extension(ext));
                        if whole || sel.keep_key(&qualified) {
                            kept.insert(k.clone(), iv.clone());
                        }
                    }
                }
            }
            if !kept.is_empty() {
                out.insert(key.clone(), Value::Object(kept));
            }
            continue;
        }
        let loc = AttrPath::parse(key)
            .ok()
            .and_then(|p| schema.attribute(p.urn.as_deref(), &p.attr));
        match loc {
            Some(loc) => {
                if let Some(x) = apply_keep(loc.def, sel.keep(loc), v) {
                    out.insert(key.clone(), x);
                }
            }
            // Undefined extensions (kept verbatim) and any other undefined key.
            None => {
                if sel.keep_key(key) {
                    out.insert(key.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

fn apply_keep(def: &AttributeDef, keep: Keep, v: &Value) -> Option<Value> {
    let filter_subs = |v: &Value, wanted: &dyn Fn(&AttributeDef, &str) -> bool| -> Value {
        let pick = |item: &Value| match item {
            Value::Object(o) => Value::Object(
                o.iter()
                    .filter(|(k, _)| match def.sub(k) {
                        Some(s) if s.returned == Returned::Never => false,
                        Some(s) if s.returned == Returned::Always => true,
                        Some(s) => wanted(s, k),
                        None => wanted(def, k),
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            other => other.clone(),
        };
        match v {
            Value::Array(items) => Value::Array(items.iter().map(pick).collect()),
            other => pick(other),
        }
    };
    let named = |list: &[String], k: &str| list.iter().any(|s| s.eq_ignore_ascii_case(k));
    let out = match keep {
        Keep::None => return None,
        Keep::All if !def.is_complex() => v.clone(),
        Keep::All => filter_subs(v, &|_, _| true),
        Keep::Subs(list) => filter_subs(v, &|_, k| named(&list, k)),
        Keep::AllBut(list) => filter_subs(v, &|s, k| s.returned != Returned::Request && !named(&list, k)),
    };
    crate::json::is_assigned(&out).then_some(out)
}

/// Whether a response with these parameters includes any part of the top-level attribute `name` (such as
/// `members` or `groups`), so that the caller can skip loading what would be projected away.
pub fn is_requested(schema: &ResourceSchema, attributes: &[String], excluded: &[String], name: &str) -> bool {
    Selection::new(schema, attributes, excluded).shows(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{GROUP, USER};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn members_requested_unless_excluded() {
        assert!(is_requested(&GROUP, &[], &[], "members"));
        assert!(!is_requested(&GROUP, &[], &s(&["members"]), "members"));
        assert!(!is_requested(&GROUP, &[], &s(&["MEMBERS"]), "members"));
        assert!(!is_requested(&GROUP, &s(&["displayName"]), &[], "members"));
        assert!(is_requested(&GROUP, &s(&["members.value"]), &[], "members"));
        assert!(is_requested(&USER, &[], &s(&["emails"]), "groups"));
        assert!(!is_requested(&USER, &[], &[], "password"));
    }

    #[test]
    fn a_selection_drops_duplicate_entries() {
        let sel = Selection::new(
            &USER,
            &s(&[
                "userName",
                "USERNAME,name.givenName",
                "name.GIVENNAME",
                "urn:x:y",
                "URN:X:Y",
            ]),
            &[],
        );
        assert_eq!(sel.len(), 3);
        let sel = Selection::new(&USER, &[], &s(&["emails", "emails", "Emails"]));
        assert_eq!(sel.len(), 1);
        assert!(!sel.shows("emails"));
    }
}
