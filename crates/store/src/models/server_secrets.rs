//! `server_secrets`: keys generated once and shared by every process on the database (the admin session
//! signing key, the key that encrypts SSO secrets).

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::server_secrets;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Returns the stored secret `name`, storing `candidate` first if there is none. Safe when several processes
/// start at once: the first insert wins and everyone reads the winner.
pub fn get_or_insert(
    conn: &mut DbConnection,
    name: &str,
    candidate: &[u8],
    now: NaiveDateTime,
) -> Result<Vec<u8>, StoreError> {
    if let Some(existing) = get(conn, name)? {
        return Ok(existing);
    }
    // diesel's MultiConnection has no ON CONFLICT: insert in a savepoint, and on a conflict read the winner.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(server_secrets::table)
            .values((
                server_secrets::name.eq(name),
                server_secrets::value.eq(candidate),
                server_secrets::created_at.eq(now),
            ))
            .execute(conn)
            .map_err(StoreError::from)
    });
    match inserted {
        Ok(_) => Ok(candidate.to_vec()),
        Err(StoreError::Conflict(_)) => get(conn, name)?.ok_or(StoreError::NotFound),
        Err(other) => Err(other),
    }
}

pub fn get(conn: &mut DbConnection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(server_secrets::table
        .find(name)
        .select(server_secrets::value)
        .first(conn)
        .optional()?)
}

/// Deletes the stored secret `name`; whether there was one.
pub fn delete(conn: &mut DbConnection, name: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(server_secrets::table.find(name)).execute(conn)? > 0)
}
