//! Read-only queries behind the admin pages (`scimd-admin`): pages of members, groups with their member
//! counts, the audit trail filtered by action and time, and the history of one member or group.
//!
//! Every page is keyset-paged by `seq` (newest first) over the `(org_id, seq)` indexes, so that page 2,000 of
//! an org with 100,000 members costs what page 1 costs: no OFFSET, no count of what was skipped.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::models::audit_events::AuditEvent;
use crate::models::groups::Group;
use crate::models::members::Member;
use crate::schema::{audit_events, group_members, groups, members};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

diesel::define_sql_function!(fn lower(x: Nullable<Text>) -> Nullable<Text>);

/// Where a page starts, in `seq` order (pages list newest first, that is by descending `seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keyset {
    /// The newest rows.
    #[default]
    First,
    /// Rows older than this `seq` (the next page).
    After(i64),
    /// Rows newer than this `seq` (the previous page).
    Before(i64),
}

/// A page of rows, newest first, and whether there are more in each direction.
#[derive(Debug, Clone, PartialEq)]
pub struct KeysetPage<T> {
    pub rows: Vec<T>,
    /// There are older rows than the last one.
    pub has_older: bool,
    /// There are newer rows than the first one.
    pub has_newer: bool,
}

/// `%text%` for LIKE, with the wildcards the user typed matched literally (escape character `\`).
pub fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A page of the org's members (those SCIM has not deleted), newest first, optionally only those whose
/// userName, email, display name, given name or family name contains `search` (case-insensitively).
pub fn members_page(
    conn: &mut DbConnection,
    org: &OrgId,
    search: Option<&str>,
    keyset: Keyset,
    limit: i64,
) -> Result<KeysetPage<Member>, StoreError> {
    let mut query = members::table
        .filter(members::org_id.eq(org.as_str()))
        .filter(members::deleted_at.is_null())
        .select(Member::as_select())
        .limit(limit + 1)
        .into_boxed();
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = like_contains(&search.to_lowercase());
        query = query.filter(
            members::user_name_norm
                .like(pattern.clone())
                .escape('\\')
                .nullable()
                .or(lower(members::email).like(pattern.clone()).escape('\\'))
                .or(lower(members::display_name).like(pattern.clone()).escape('\\'))
                .or(lower(members::given_name).like(pattern.clone()).escape('\\'))
                .or(lower(members::family_name).like(pattern).escape('\\')),
        );
    }
    query = match keyset {
        Keyset::First => query.order(members::seq.desc()),
        Keyset::After(seq) => query.filter(members::seq.lt(seq)).order(members::seq.desc()),
        Keyset::Before(seq) => query.filter(members::seq.gt(seq)).order(members::seq.asc()),
    };
    let rows = query.load(conn)?;
    Ok(into_page(rows, keyset, limit))
}

/// A group and how many members it has.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupWithCount {
    pub group: Group,
    pub member_count: i64,
}

/// A page of the org's groups, newest first, each with its member count (one indexed count per group of the
/// page, on the `group_members` primary key).
pub fn groups_page(
    conn: &mut DbConnection,
    org: &OrgId,
    keyset: Keyset,
    limit: i64,
) -> Result<KeysetPage<GroupWithCount>, StoreError> {
    let mut query = groups::table
        .filter(groups::org_id.eq(org.as_str()))
        .select(Group::as_select())
        .limit(limit + 1)
        .into_boxed();
    query = match keyset {
        Keyset::First => query.order(groups::seq.desc()),
        Keyset::After(seq) => query.filter(groups::seq.lt(seq)).order(groups::seq.desc()),
        Keyset::Before(seq) => query.filter(groups::seq.gt(seq)).order(groups::seq.asc()),
    };
    let rows = query.load(conn)?;
    let page = into_page(rows, keyset, limit);
    let mut with_counts = Vec::with_capacity(page.rows.len());
    for group in page.rows {
        let member_count = group_members::table
            .filter(group_members::group_id.eq(&group.id))
            .filter(group_members::org_id.eq(org.as_str()))
            .count()
            .get_result(conn)?;
        with_counts.push(GroupWithCount { group, member_count });
    }
    Ok(KeysetPage {
        rows: with_counts,
        has_older: page.has_older,
        has_newer: page.has_newer,
    })
}

pub fn count_groups(conn: &mut DbConnection, org: &OrgId) -> Result<i64, StoreError> {
    Ok(groups::table
        .filter(groups::org_id.eq(org.as_str()))
        .count()
        .get_result(conn)?)
}

/// What the audit trail is narrowed to. Times are inclusive at `since`, exclusive at `until`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Only events strictly older than this `seq` (the cursor of the previous page).
    pub before_seq: Option<i64>,
}

/// A page of the org's audit events, newest first. `has_older` says whether another page follows.
pub fn audit_page(
    conn: &mut DbConnection,
    org: &OrgId,
    filter: &AuditFilter,
    limit: i64,
) -> Result<KeysetPage<AuditEvent>, StoreError> {
    let mut query = audit_events::table
        .filter(audit_events::org_id.eq(org.as_str()))
        .select(AuditEvent::as_select())
        .order(audit_events::seq.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_events::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::occurred_at.lt(until));
    }
    let keyset = match filter.before_seq {
        Some(seq) => {
            query = query.filter(audit_events::seq.lt(seq));
            Keyset::After(seq)
        }
        None => Keyset::First,
    };
    let rows = query.load(conn)?;
    Ok(into_page(rows, keyset, limit))
}

/// The org's newest audit events about `target` (a member's or a group's id), newest first: the history on
/// its page. Read along `(org_id, target, seq)`.
pub fn audit_about(
    conn: &mut DbConnection,
    org: &OrgId,
    target: &str,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::org_id.eq(org.as_str()))
        .filter(audit_events::target.eq(target))
        .select(AuditEvent::as_select())
        .order(audit_events::seq.desc())
        .limit(limit)
        .load(conn)?)
}

/// The actions recorded in the org's audit trail, for the filter's choices.
pub fn audit_actions(conn: &mut DbConnection, org: &OrgId) -> Result<Vec<String>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::org_id.eq(org.as_str()))
        .select(audit_events::action)
        .distinct()
        .order(audit_events::action.asc())
        .load(conn)?)
}

/// The email (or userName) of each of these members of the org that exists, to show actors by name.
pub fn member_labels(
    conn: &mut DbConnection,
    org: &OrgId,
    ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut labels = Vec::with_capacity(ids.len());
    for id in ids {
        let row: Option<(String, Option<String>)> = members::table
            .filter(members::org_id.eq(org.as_str()))
            .filter(members::id.eq(id))
            .select((members::user_name, members::email))
            .first(conn)
            .optional()?;
        if let Some((user_name, email)) = row {
            labels.push((id.clone(), email.unwrap_or(user_name)));
        }
    }
    Ok(labels)
}

/// Trims the extra row fetched to learn whether more follow, and puts a backwards page newest first. A page
/// reached from a cursor assumes there are rows on the side it came from.
fn into_page<T>(mut rows: Vec<T>, keyset: Keyset, limit: i64) -> KeysetPage<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    match keyset {
        Keyset::First => KeysetPage {
            rows,
            has_older: more,
            has_newer: false,
        },
        Keyset::After(_) => KeysetPage {
            rows,
            has_older: more,
            has_newer: true,
        },
        Keyset::Before(_) => {
            rows.reverse();
            KeysetPage {
                rows,
                has_older: true,
                has_newer: more,
            }
        }
    }
}
