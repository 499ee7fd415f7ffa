//! `login_links`: single-use admin login links. The link is a short-lived JWT whose id is a row here; using it
//! stamps `used_at` in the same statement that checks it was unused, so a link works exactly once.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::login_links;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_links)]
pub struct LoginLinkRow {
    pub id: String,
    pub org_id: String,
    pub member_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &LoginLinkRow) -> Result<(), StoreError> {
    diesel::insert_into(login_links::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Marks the link used if it is unused and unexpired; returns the row when this call consumed it.
pub fn consume(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<LoginLinkRow>, StoreError> {
    let consumed = diesel::update(
        login_links::table
            .filter(login_links::id.eq(id))
            .filter(login_links::used_at.is_null())
            .filter(login_links::expires_at.gt(now)),
    )
    .set(login_links::used_at.eq(now))
    .execute(conn)?;
    if consumed == 0 {
        return Ok(None);
    }
    Ok(login_links::table
        .find(id)
        .select(LoginLinkRow::as_select())
        .first(conn)
        .optional()?)
}

/// The link, whether or not it was used (the landing page shows whom it signs in before it is used).
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<LoginLinkRow>, StoreError> {
    Ok(login_links::table
        .find(id)
        .select(LoginLinkRow::as_select())
        .first(conn)
        .optional()?)
}
