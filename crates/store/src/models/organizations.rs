//! `organizations`: the tenants.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::organizations;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, serde::Serialize)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

impl Organization {
    pub fn org_id(&self) -> OrgId {
        OrgId::new(self.id.clone())
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewOrganization<'_>) -> Result<Organization, StoreError> {
    diesel::insert_into(organizations::table)
        .values(new)
        .execute(conn)?;
    get(conn, &OrgId::new(new.id))
}

pub fn get(conn: &mut DbConnection, org: &OrgId) -> Result<Organization, StoreError> {
    Ok(organizations::table
        .find(org.as_str())
        .select(Organization::as_select())
        .first(conn)?)
}

pub fn find(conn: &mut DbConnection, org: &OrgId) -> Result<Option<Organization>, StoreError> {
    Ok(organizations::table
        .find(org.as_str())
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

/// Every org, oldest first (operators' `scimd org list`).
pub fn list(conn: &mut DbConnection) -> Result<Vec<Organization>, StoreError> {
    Ok(organizations::table
        .order((organizations::created_at.asc(), organizations::id.asc()))
        .select(Organization::as_select())
        .load(conn)?)
}

/// Up to `limit` orgs whose id sorts after `after_id` ("" for the first page), in id order: the platform
/// API's `/api/v1/orgs`.
pub fn page(conn: &mut DbConnection, after_id: &str, limit: i64) -> Result<Vec<Organization>, StoreError> {
    Ok(organizations::table
        .filter(organizations::id.gt(after_id.to_owned()))
        .order(organizations::id.asc())
        .limit(limit)
        .select(Organization::as_select())
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(organizations::table.count().get_result(conn)?)
}

/// Creates an org and, when an e-mail is given, its owner: a member who is not SCIM-managed (so that a later
/// SCIM create with the same userName links it). Audited as `org.created`.
pub fn create_with_owner(
    conn: &mut DbConnection,
    name: &str,
    owner_email: Option<&str>,
    now: NaiveDateTime,
) -> Result<(Organization, Option<crate::models::members::Member>), StoreError> {
    let id = OrgId::generate();
    let org = insert(
        conn,
        &NewOrganization {
            id: id.as_str(),
            name,
            created_at: now,
        },
    )?;
    let owner = match owner_email {
        Some(email) => Some(crate::models::members::insert_owner(conn, &id, email, now)?),
        None => None,
    };
    crate::models::audit_events::append(
        conn,
        &crate::models::audit_events::NewAuditEvent {
            org_id: &id,
            occurred_at: now,
            actor: "cli",
            action: "org.created",
            target: Some(id.as_str()),
            details: serde_json::json!({ "name": name, "owner": owner_email }),
        },
    )?;
    Ok((org, owner))
}
