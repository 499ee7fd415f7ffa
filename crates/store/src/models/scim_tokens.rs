//! `scim_tokens`: SCIM bearer tokens, stored as SHA-256 hashes only. The token service (`scimd-tokens`) owns
//! their lifecycle; this file holds the row and the queries.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::scim_tokens;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = scim_tokens)]
pub struct ScimTokenRow {
    pub id: String,
    pub org_id: String,
    pub token_hash: Vec<u8>,
    pub hint: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

// The hash is not a secret, but printing it helps nobody and invites copying it around.
impl std::fmt::Debug for ScimTokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimTokenRow")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("hint", &self.hint)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Insertable)]
#[diesel(table_name = scim_tokens)]
pub struct NewScimToken<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub token_hash: &'a [u8],
    pub hint: &'a str,
    pub created_at: NaiveDateTime,
    pub created_by: &'a str,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, new: &NewScimToken<'_>) -> Result<(), StoreError> {
    diesel::insert_into(scim_tokens::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

/// The token row with this hash, whatever its state (the caller checks revocation and expiry).
/// On the backend's own connection: every SCIM request runs it (see `connection::on_own_connection`).
pub fn find_by_hash(conn: &mut DbConnection, hash: &[u8]) -> Result<Option<ScimTokenRow>, StoreError> {
    Ok(crate::connection::on_own_connection!(conn, |c| {
        scim_tokens::table
            .filter(scim_tokens::token_hash.eq(hash))
            .select(ScimTokenRow::as_select())
            .first(c)
            .optional()
    })?)
}

/// Every token of the org, newest first.
pub fn list(conn: &mut DbConnection, org: &OrgId) -> Result<Vec<ScimTokenRow>, StoreError> {
    Ok(scim_tokens::table
        .filter(scim_tokens::org_id.eq(org.as_str()))
        .order((scim_tokens::created_at.desc(), scim_tokens::id.desc()))
        .select(ScimTokenRow::as_select())
        .load(conn)?)
}

/// Serialises changes to one org's tokens and tells whether the org exists. On PostgreSQL it locks the org's
/// row until the transaction ends (two concurrent regenerates would otherwise both see one live token); on
/// SQLite the write transaction (`BEGIN IMMEDIATE`) already holds the database's write lock. Call it first in
/// a `Store::write`.
pub fn lock_org(conn: &mut DbConnection, org: &OrgId) -> Result<bool, StoreError> {
    use crate::schema::organizations;
    let found = match conn {
        DbConnection::Postgres(pg) => organizations::table
            .find(org.as_str())
            .select(organizations::id)
            .for_update()
            .first::<String>(pg)
            .optional()?,
        DbConnection::Sqlite(_) => organizations::table
            .find(org.as_str())
            .select(organizations::id)
            .first::<String>(conn)
            .optional()?,
    };
    Ok(found.is_some())
}

/// The org's tokens that still work at `now` (not revoked yet, not expired), newest first. A token in its
/// grace period after a regenerate has a `revoked_at` in the future and is included.
pub fn live(
    conn: &mut DbConnection,
    org: &OrgId,
    now: NaiveDateTime,
) -> Result<Vec<ScimTokenRow>, StoreError> {
    Ok(scim_tokens::table
        .filter(scim_tokens::org_id.eq(org.as_str()))
        .filter(
            scim_tokens::revoked_at
                .is_null()
                .or(scim_tokens::revoked_at.gt(now)),
        )
        .filter(
            scim_tokens::expires_at
                .is_null()
                .or(scim_tokens::expires_at.gt(now)),
        )
        .order((scim_tokens::created_at.desc(), scim_tokens::id.desc()))
        .select(ScimTokenRow::as_select())
        .load(conn)?)
}

/// Makes the token stop working at `at` (now, or the end of a grace period), unless it already stops
/// earlier. Returns whether the row changed.
pub fn revoke_at(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(diesel::update(
        scim_tokens::table.filter(scim_tokens::id.eq(id)).filter(
            scim_tokens::revoked_at
                .is_null()
                .or(scim_tokens::revoked_at.gt(at)),
        ),
    )
    .set(scim_tokens::revoked_at.eq(at))
    .execute(conn)?
        > 0)
}

/// The org's tokens whose expiry has passed but which were not yet recorded as expired (their `revoked_at` is
/// unset or later than their expiry).
pub fn expired_unrecorded(
    conn: &mut DbConnection,
    org: &OrgId,
    now: NaiveDateTime,
) -> Result<Vec<ScimTokenRow>, StoreError> {
    Ok(scim_tokens::table
        .filter(scim_tokens::org_id.eq(org.as_str()))
        .filter(scim_tokens::expires_at.le(now))
        .filter(
            scim_tokens::revoked_at
                .is_null()
                .or(scim_tokens::revoked_at.gt(scim_tokens::expires_at)),
        )
        .select(ScimTokenRow::as_select())
        .load(conn)?)
}

/// Records an expired token as revoked at its expiry. Returns true only for the call that changed the row, so
/// that the expiry is audited once however many processes notice it.
pub fn record_expiry(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(diesel::update(
        scim_tokens::table
            .filter(scim_tokens::id.eq(id))
            .filter(scim_tokens::expires_at.le(now))
            .filter(
                scim_tokens::revoked_at
                    .is_null()
                    .or(scim_tokens::revoked_at.gt(scim_tokens::expires_at)),
            ),
    )
    .set(scim_tokens::revoked_at.eq(scim_tokens::expires_at))
    .execute(conn)?
        > 0)
}

/// Sets `last_used_at` to `now` unless another request (of any process) already did so after `not_before`.
/// Returns whether the row changed.
pub fn touch_last_used(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    not_before: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        scim_tokens::table.filter(scim_tokens::id.eq(id)).filter(
            scim_tokens::last_used_at
                .is_null()
                .or(scim_tokens::last_used_at.lt(not_before)),
        ),
    )
    .set(scim_tokens::last_used_at.eq(now))
    .execute(conn)?
        > 0)
}
