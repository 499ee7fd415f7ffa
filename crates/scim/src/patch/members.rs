//! Group membership changes as a delta. A group's members are rows (a group may have 100,000), so PATCH
//! never sees nor rewrites the member list: each `members` operation is turned into ids added and removed.

use super::request::OpKind;
use crate::dialect::{Dialect, Dialects};
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::json::field;
use crate::path::PatchPath;
use crate::values::describe;
use serde_json::Value;
use std::collections::HashSet;

/// The net effect of a PATCH on a group's members. `added` and `removed` are disjoint; when `clear_all` is
/// set the store deletes every membership first, then applies `removed` (a no-op then) and `added`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembersDelta {
    /// Member ids to insert (existing memberships are kept).
    pub added: Vec<String>,
    /// Member ids to delete (absent ones are ignored).
    pub removed: Vec<String>,
    /// Delete every membership before adding `added`.
    pub clear_all: bool,
}

impl MembersDelta {
    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && !self.clear_all
    }

    /// 400 `tooMany` ([`ScimError::too_many_members`]) when the delta adds and removes more than `max`
    /// member ids in all (the service's limit is [`crate::limits::MAX_MEMBERS_PER_REQUEST`]).
    pub fn check_limit(&self, max: usize) -> Result<(), ScimError> {
        let n = self.added.len() + self.removed.len();
        if n > max {
            return Err(ScimError::too_many_members(n, max));
        }
        Ok(())
    }
}

/// Builds a [`MembersDelta`] operation by operation in time linear in the number of ids (a request may
/// carry tens of thousands).
#[derive(Debug, Default)]
pub(crate) struct DeltaBuilder {
    added: Vec<String>,
    added_set: HashSet<String>,
    removed: Vec<String>,
    removed_set: HashSet<String>,
    clear_all: bool,
}

impl DeltaBuilder {
    fn add(&mut self, id: String) {
        self.removed_set.remove(&id);
        if self.added_set.insert(id.clone()) {
            self.added.push(id);
        }
    }

    fn remove(&mut self, id: String) {
        self.added_set.remove(&id);
        if !self.clear_all && self.removed_set.insert(id.clone()) {
            self.removed.push(id);
        }
    }

    fn clear(&mut self) {
        self.clear_all = true;
        self.added.clear();
        self.added_set.clear();
        self.removed.clear();
        self.removed_set.clear();
    }

    /// The net delta: ids in first-added order, each once.
    pub(crate) fn finish(mut self) -> MembersDelta {
        let added = self
            .added
            .into_iter()
            .filter(|a| self.added_set.remove(a))
            .collect();
        let removed = self
            .removed
            .into_iter()
            .filter(|r| self.removed_set.remove(r))
            .collect();
        MembersDelta {
            added,
            removed,
            clear_all: self.clear_all,
        }
    }

    /// Applies one `members` operation (with or without `path`).
    pub(crate) fn apply(
        &mut self,
        kind: OpKind,
        path: Option<&PatchPath>,
        value: Option<Value>,
        dialects: &mut Dialects,
    ) -> Result<(), ScimError> {
        let filter = path.and_then(|p| p.filter.as_ref());
        if path.is_some_and(|p| p.attr.sub_attr.is_some()) {
            return Err(ScimError::invalid_path(
                "Group members cannot be changed one sub-attribute at a time; add or remove members by value.",
            ));
        }
        match (kind, filter) {
            (OpKind::Add, None) => {
                for id in member_ids(value)? {
                    self.add(id);
                }
            }
            (OpKind::Replace, None) => {
                let ids = member_ids(value)?;
                if ids.is_empty() {
                    dialects.note(Dialect::MembersReplaceEmpty);
                }
                self.clear();
                for id in ids {
                    self.add(id);
                }
            }
            (OpKind::Remove, None) => match value {
                Some(v) if !v.is_null() && v != Value::Array(Vec::new()) => {
                    dialects.note(Dialect::MembersRemoveByValueList);
                    for id in member_ids(Some(v))? {
                        self.remove(id);
                    }
                }
                _ => self.clear(),
            },
            (OpKind::Remove, Some(f)) => {
                let mut ids = Vec::new();
                filter_ids(f, &mut ids)?;
                for id in ids {
                    self.remove(id);
                }
            }
            (OpKind::Add | OpKind::Replace, Some(_)) => {
                return Err(ScimError::invalid_path(
                    "Group members are added or replaced as a list: use path \"members\" with a list of \
                     {\"value\": id}, not a filter.",
                ));
            }
        }
        Ok(())
    }
}

/// The ids of a `members` value: an array (or one object) of `{"value": id}`.
fn member_ids(value: Option<Value>) -> Result<Vec<String>, ScimError> {
    let items = match value {
        None | Some(Value::Null) => {
            return Err(ScimError::invalid_value(
                "A members operation needs a list of {\"value\": id}.",
            ));
        }
        Some(Value::Array(items)) => items,
        Some(one) => vec![one],
    };
    let mut ids = Vec::with_capacity(items.len());
    for item in &items {
        match field(item, "value") {
            Some(Value::String(id)) if !id.is_empty() => {
                crate::limits::check_member_id(id)?;
                ids.push(id.clone());
            }
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "Each member must be an object with a non-empty string \"value\" (the member's id); got {}.",
                    describe(item)
                )));
            }
        }
    }
    Ok(ids)
}

/// The ids a `members[...]` filter selects: `value eq "id"` terms joined by `or`.
fn filter_ids(f: &Filter, out: &mut Vec<String>) -> Result<(), ScimError> {
    match f {
        Filter::Or(a, b) => {
            filter_ids(a, out)?;
            filter_ids(b, out)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.urn.is_none() && path.sub_attr.is_none() && path.attr.eq_ignore_ascii_case("value") => {
            out.push(id.clone());
            Ok(())
        }
        _ => Err(ScimError::invalid_path(format!(
            "Members can only be selected by id, as in members[value eq \"id\"] (optionally joined by 'or'); \
             \"{f}\" is not supported."
        ))),
    }
}
