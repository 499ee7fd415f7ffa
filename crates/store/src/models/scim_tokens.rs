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
pub fn find_by_hash(conn: &mut DbConnection, hash: &[u8]) -> Result<Option<ScimTokenRow>, StoreError> {
    Ok(scim_tokens::table
        .filter(scim_tokens::token_hash.eq(hash))
        .select(ScimTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every token of the org, newest first.
pub fn list(conn: &mut DbConnection, org: &OrgId) -> Result<Vec<ScimTokenRow>, StoreError> {
    Ok(scim_tokens::table
        .filter(scim_tokens::org_id.eq(org.as_str()))
        .order((scim_tokens::created_at.desc(), scim_tokens::id.desc()))
        .select(ScimTokenRow::as_select())
        .load(conn)?)
}
