//! `api_keys`: the platform API's bearer credentials, as their SHA-256 and a non-secret hint; the key itself
//! is shown once by `scimd api-key create` and never stored. A key with an `org_id` sees that org only.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::api_keys;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub org_id: Option<String>,
    #[serde(skip)]
    pub key_hash: Vec<u8>,
    pub hint: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, key: &ApiKey) -> Result<(), StoreError> {
    diesel::insert_into(api_keys::table).values(key).execute(conn)?;
    Ok(())
}

/// The live (not revoked) key with this hash.
pub fn find_live_by_hash(conn: &mut DbConnection, hash: &[u8]) -> Result<Option<ApiKey>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKey::as_select())
        .first(conn)
        .optional()?)
}

/// Every key, newest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<ApiKey>, StoreError> {
    Ok(api_keys::table
        .select(ApiKey::as_select())
        .order((api_keys::created_at.desc(), api_keys::id.asc()))
        .load(conn)?)
}

/// Revokes a live key; false when there is none with this id.
pub fn revoke(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now)))
    .execute(conn)?
        > 0)
}
