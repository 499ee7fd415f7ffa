//! `sso_pending_logins`, `sso_handoffs` and `sso_assertion_replays`: the server-side state of a sign-in through
//! the org's SSO connection. A pending login is single use: [`consume`] stamps `consumed_at` in the statement
//! that checks it was unused and unexpired, so two ACS posts of one RelayState (or two processes) cannot both
//! use it. A hand-off (a verified SAML sign-in waiting for the browser's same-site GET) is single use the same
//! way ([`consume_handoff`]). An assertion ID is recorded once per org ([`record_assertion`]); the primary key
//! refuses a second use.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::{sso_assertion_replays, sso_handoffs, sso_pending_logins};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A pending sign-in. `id` and `browser_hash` are SHA-256 digests: the RelayState (or OIDC `state`) and the
/// browser cookie themselves are never stored.
#[derive(Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_pending_logins)]
pub struct PendingLoginRow {
    pub id: Vec<u8>,
    pub org_id: String,
    pub protocol: String,
    pub request_id: String,
    pub browser_hash: Vec<u8>,
    pub secret_sealed: Option<Vec<u8>>,
    pub return_to: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for PendingLoginRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLoginRow")
            .field("org_id", &self.org_id)
            .field("protocol", &self.protocol)
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub fn insert(conn: &mut DbConnection, row: &PendingLoginRow) -> Result<(), StoreError> {
    diesel::insert_into(sso_pending_logins::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Uses the pending login `id` of `org` if it is unused and unexpired; returns it when this call consumed it.
/// A row of another org is never consumed (nor returned).
pub fn consume(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &[u8],
    now: NaiveDateTime,
) -> Result<Option<PendingLoginRow>, StoreError> {
    let consumed = diesel::update(
        sso_pending_logins::table
            .filter(sso_pending_logins::id.eq(id))
            .filter(sso_pending_logins::org_id.eq(org.as_str()))
            .filter(sso_pending_logins::consumed_at.is_null())
            .filter(sso_pending_logins::expires_at.gt(now)),
    )
    .set(sso_pending_logins::consumed_at.eq(now))
    .execute(conn)?;
    if consumed == 0 {
        return Ok(None);
    }
    Ok(sso_pending_logins::table
        .find(id)
        .select(PendingLoginRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether `org` already has `cap` live (unused, unexpired) pending logins. Reads at most `cap` ids through
/// the `sso_pending_logins_live` index, so the cost is bounded by the cap, not by the org's rows.
pub fn live_pending_reaches(
    conn: &mut DbConnection,
    org: &OrgId,
    now: NaiveDateTime,
    cap: u32,
) -> Result<bool, StoreError> {
    let live: Vec<Vec<u8>> = sso_pending_logins::table
        .filter(sso_pending_logins::org_id.eq(org.as_str()))
        .filter(sso_pending_logins::consumed_at.is_null())
        .filter(sso_pending_logins::expires_at.gt(now))
        .select(sso_pending_logins::id)
        .limit(i64::from(cap))
        .load(conn)?;
    Ok(live.len() >= usize::try_from(cap).unwrap_or(usize::MAX))
}

/// A verified SAML sign-in the browser has yet to collect (see the migration `sso_handoffs`). `id` and
/// `browser_hash` are SHA-256 digests: the token in the URL and the binding cookie are never stored.
#[derive(Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_handoffs)]
pub struct HandOffRow {
    pub id: Vec<u8>,
    pub org_id: String,
    pub member_id: String,
    /// `saml`: the sign-in's method, as the session's `admin.login` event will say.
    pub method: String,
    pub browser_hash: Vec<u8>,
    pub return_to: String,
    /// The IdP's cap on the session (SAML `SessionNotOnOrAfter`), if it set one.
    pub session_not_after: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for HandOffRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandOffRow")
            .field("org_id", &self.org_id)
            .field("member_id", &self.member_id)
            .field("method", &self.method)
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub fn insert_handoff(conn: &mut DbConnection, row: &HandOffRow) -> Result<(), StoreError> {
    diesel::insert_into(sso_handoffs::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Uses the hand-off `id` of `org` if it is unused, unexpired and bound to the browser whose binding cookie
/// digests to `browser_hash`; returns it when this call consumed it. A hand-off presented by another browser
/// stays unused (the browser it belongs to can still collect it), like one of another org.
pub fn consume_handoff(
    conn: &mut DbConnection,
    org: &OrgId,
    id: &[u8],
    browser_hash: &[u8],
    now: NaiveDateTime,
) -> Result<Option<HandOffRow>, StoreError> {
    let consumed = diesel::update(
        sso_handoffs::table
            .filter(sso_handoffs::id.eq(id))
            .filter(sso_handoffs::org_id.eq(org.as_str()))
            .filter(sso_handoffs::browser_hash.eq(browser_hash))
            .filter(sso_handoffs::consumed_at.is_null())
            .filter(sso_handoffs::expires_at.gt(now)),
    )
    .set(sso_handoffs::consumed_at.eq(now))
    .execute(conn)?;
    if consumed == 0 {
        return Ok(None);
    }
    Ok(sso_handoffs::table
        .find(id)
        .select(HandOffRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records that `assertion_id` signed someone in to `org`; false when it already had (a replay).
pub fn record_assertion(
    conn: &mut DbConnection,
    org: &OrgId,
    assertion_id: &str,
    keep_until: NaiveDateTime,
) -> Result<bool, StoreError> {
    let row = (
        sso_assertion_replays::org_id.eq(org.as_str()),
        sso_assertion_replays::assertion_id.eq(assertion_id),
        sso_assertion_replays::keep_until.eq(keep_until),
    );
    // ON CONFLICT DO NOTHING: on PostgreSQL a failed insert would abort the sign-in's transaction.
    let insert = diesel::insert_into(sso_assertion_replays::table)
        .values(row)
        .on_conflict_do_nothing();
    let inserted = match conn {
        DbConnection::Sqlite(c) => insert.execute(c)?,
        DbConnection::Postgres(c) => insert.execute(c)?,
    };
    Ok(inserted == 1)
}

/// Deletes pending logins, hand-offs and replay records past their time, at most `limit` of each; returns how many went.
/// The retention task calls it; nothing on a request path does.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<usize, StoreError> {
    let pending: Vec<Vec<u8>> = sso_pending_logins::table
        .filter(sso_pending_logins::expires_at.le(now))
        .select(sso_pending_logins::id)
        .limit(limit)
        .load(conn)?;
    let mut gone = diesel::delete(sso_pending_logins::table.filter(sso_pending_logins::id.eq_any(&pending)))
        .execute(conn)?;
    let handoffs: Vec<Vec<u8>> = sso_handoffs::table
        .filter(sso_handoffs::expires_at.le(now))
        .select(sso_handoffs::id)
        .limit(limit)
        .load(conn)?;
    gone += diesel::delete(sso_handoffs::table.filter(sso_handoffs::id.eq_any(&handoffs))).execute(conn)?;
    let replays: Vec<(String, String)> = sso_assertion_replays::table
        .filter(sso_assertion_replays::keep_until.le(now))
        .select((sso_assertion_replays::org_id, sso_assertion_replays::assertion_id))
        .limit(limit)
        .load(conn)?;
    for (org, id) in replays {
        gone += diesel::delete(
            sso_assertion_replays::table
                .filter(sso_assertion_replays::org_id.eq(org))
                .filter(sso_assertion_replays::assertion_id.eq(id)),
        )
        .execute(conn)?;
    }
    Ok(gone)
}
