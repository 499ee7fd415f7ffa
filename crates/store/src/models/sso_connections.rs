//! `sso_connections`: one SSO connection (SAML or Azure AD) per org. `settings` holds the non-secret part as
//! JSON; the Azure AD client secret is stored encrypted in `secret_ciphertext`.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::sso_connections;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sso_connections)]
pub struct SsoConnectionRow {
    pub org_id: String,
    pub kind: String,
    pub settings: String,
    pub secret_ciphertext: Option<Vec<u8>>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl std::fmt::Debug for SsoConnectionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConnectionRow")
            .field("org_id", &self.org_id)
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("has_secret", &self.secret_ciphertext.is_some())
            .finish_non_exhaustive()
    }
}

pub fn find(conn: &mut DbConnection, org: &OrgId) -> Result<Option<SsoConnectionRow>, StoreError> {
    Ok(sso_connections::table
        .find(org.as_str())
        .select(SsoConnectionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates or replaces the org's connection (keeping its creation time).
pub fn upsert(conn: &mut DbConnection, row: &SsoConnectionRow) -> Result<(), StoreError> {
    let updated = diesel::update(sso_connections::table.find(&row.org_id))
        .set((
            sso_connections::kind.eq(&row.kind),
            sso_connections::settings.eq(&row.settings),
            sso_connections::secret_ciphertext.eq(&row.secret_ciphertext),
            sso_connections::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(sso_connections::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Removes the org's connection; true when there was one.
pub fn delete(conn: &mut DbConnection, org: &OrgId) -> Result<bool, StoreError> {
    Ok(diesel::delete(sso_connections::table.find(org.as_str())).execute(conn)? > 0)
}
