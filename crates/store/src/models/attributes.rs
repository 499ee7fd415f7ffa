//! Custom attributes: `attribute_definitions` (what an org, or the whole deployment when `org_id` is NULL,
//! declares under `urn:ietf:params:scim:schemas:extension:scimd:2.0:User`) and `member_attribute_values` (the
//! typed, normalised values of the filterable ones, an index the filter translation reads).
//!
//! The values themselves live in the member's SCIM document; [`write_values`] keeps the index in step with
//! it, inside the transaction that writes the document. Values an IdP sent before the attribute was declared
//! (kept verbatim then, as any undeclared attribute) are adopted by the declaration itself ([`define`]): each
//! is checked against the declared type, and indexed when the attribute is filterable, in the declaration's
//! transaction; one of the wrong type refuses the declaration.

use crate::connection::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::models::audit_events;
use crate::schema::{attribute_definitions as d, member_attribute_values as v};
use chrono::NaiveDateTime;
use diesel::prelude::*;
pub use scimd_scim::schema::CustomType;
use scimd_scim::schema::custom::{self, IndexValue, IndexedValue};
use scimd_scim::schema::{CustomAttr, CustomSchema};
use serde::Serialize;

/// The audit action of an org's declaration.
pub const ATTRIBUTE_DEFINED: &str = "attribute.defined";

/// A stored declaration.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = d)]
pub struct AttributeDefinition {
    pub id: String,
    /// `None`: declared for every org of the deployment.
    pub org_id: Option<String>,
    pub name: String,
    pub name_norm: String,
    pub ty: String,
    pub multi_valued: bool,
    pub case_exact: bool,
    pub filterable: bool,
    /// The ID token and userinfo claim carrying the value, if any.
    pub claim: Option<String>,
    pub created_at: NaiveDateTime,
}

impl AttributeDefinition {
    /// The declaration as the protocol crate uses it (a type the table's CHECK does not know reads as string).
    pub fn to_custom(&self) -> CustomAttr {
        CustomAttr {
            name: self.name.clone(),
            ty: CustomType::parse(&self.ty).unwrap_or(CustomType::String),
            multi_valued: self.multi_valued,
            case_exact: self.case_exact,
            filterable: self.filterable,
        }
    }
}

/// What [`define`] declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDefinition<'a> {
    pub name: &'a str,
    pub ty: CustomType,
    pub multi_valued: bool,
    pub case_exact: bool,
    pub filterable: bool,
    /// Give the value in the ID token (and userinfo) as this claim.
    pub claim: Option<&'a str>,
}

/// Claims scimd sets itself (OIDC Core §2, §5.1 and its own): a custom attribute never overrides them.
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "org_id",
    "email",
    "email_verified",
    "name",
    "groups",
    "roles",
    "scope",
    "client_id",
    "jti",
    "nbf",
];

/// Declares an attribute for `org`, or for the deployment when `org` is `None`; run it in a write unit of
/// work. A bad name is `Refused`; a name the org (or the deployment) already declares is `Conflict`. An org's
/// declaration is audited as `actor`.
pub fn define(
    conn: &mut DbConnection,
    org: Option<&OrgId>,
    actor: &str,
    new: &NewDefinition<'_>,
    now: NaiveDateTime,
) -> Result<AttributeDefinition, StoreError> {
    if !custom::valid_name(new.name) {
        return Err(StoreError::Refused(format!(
            "\"{}\" is not an attribute name: a letter, then letters, digits, '-' or '_', at most {} characters",
            new.name,
            custom::MAX_NAME_CHARS
        )));
    }
    if let Some(claim) = new.claim
        && (!custom::valid_name(claim) || RESERVED_CLAIMS.contains(&claim.to_ascii_lowercase().as_str()))
    {
        return Err(StoreError::Refused(format!(
            "\"{claim}\" cannot be a claim: it must be an attribute-like name and not one scimd sets itself"
        )));
    }
    let name_norm = new.name.to_ascii_lowercase();
    // An org's name must not shadow the deployment's, nor a deployment's name any org's: one name, one meaning.
    let mut q: d::BoxedQuery<'_, MultiBackend> =
        d::table.filter(d::name_norm.eq(name_norm.clone())).into_boxed();
    if let Some(o) = org {
        q = q.filter(d::org_id.eq(o.as_str()).or(d::org_id.is_null()));
    }
    let clash = q.select(d::id).first::<String>(conn).optional()?;
    if clash.is_some() {
        return Err(StoreError::Conflict(format!(
            "the attribute \"{}\" is already declared",
            new.name
        )));
    }
    let in_scope = match org {
        Some(o) => count_for(conn, o)?,
        None => 0,
    };
    if in_scope >= custom::MAX_ATTRIBUTES {
        return Err(StoreError::Refused(format!(
            "an organization may declare at most {} attributes",
            custom::MAX_ATTRIBUTES
        )));
    }
    let row = AttributeDefinition {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org.map(|o| o.to_string()),
        name: new.name.to_owned(),
        name_norm,
        ty: new.ty.as_str().to_owned(),
        multi_valued: new.multi_valued,
        case_exact: new.case_exact,
        filterable: new.filterable,
        claim: new.claim.map(str::to_owned),
        created_at: now,
    };
    diesel::insert_into(d::table).values(&row).execute(conn)?;
    let adopted = adopt_existing(conn, org, &row.to_custom())?;
    if let Some(o) = org {
        let details = serde_json::json!({
            "name": row.name,
            "type": row.ty,
            "multi_valued": row.multi_valued,
            "case_exact": row.case_exact,
            "filterable": row.filterable,
            "claim": row.claim,
            "existing_values": adopted,
        });
        audit_events::append_for_org(conn, o, actor, ATTRIBUTE_DEFINED, details, now)?;
    }
    Ok(row)
}

/// The most member documents one page of [`adopt_existing`] reads.
const ADOPT_PAGE: i64 = 500;

/// Checks the values the IdP sent for `def` before it was declared (in the documents of `org`'s live members,
/// or every org's for a deployment declaration) and indexes them when `def` is filterable, so that a filter
/// finds every member holding a value from the moment the declaration commits: it is run in the declaration's
/// transaction, reading the documents that carry the extension a page at a time. A value of the wrong type
/// refuses the declaration (`Refused`, with how many members and one of them): declared, it would make that
/// member's every later write a 400, a deactivation included. Returns how many members held a value.
fn adopt_existing(conn: &mut DbConnection, org: Option<&OrgId>, def: &CustomAttr) -> Result<u64, StoreError> {
    use crate::schema::members as m;
    let one = CustomSchema::new(vec![def.clone()]);
    let pattern = format!("%{}%", custom::CUSTOM_USER_URN);
    let (mut after, mut held, mut wrong) = (String::new(), 0u64, 0u64);
    let mut example: Option<(String, String)> = None;
    loop {
        let mut q = m::table
            .filter(m::id.gt(&after))
            .filter(m::deleted_at.is_null())
            .filter(m::document.like(pattern.as_str()))
            .into_boxed();
        if let Some(o) = org {
            q = q.filter(m::org_id.eq(o.as_str()));
        }
        let page: Vec<(String, String, String)> = q
            .select((m::id, m::org_id, m::document))
            .order(m::id.asc())
            .limit(ADOPT_PAGE)
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.0.clone();
        for (member, member_org, document) in &page {
            let doc: serde_json::Value = serde_json::from_str(document)?;
            let ext = CustomSchema::values_of(&doc);
            let value = ext
                .as_object()
                .and_then(|ext| ext.iter().find(|(k, _)| k.eq_ignore_ascii_case(&def.name)))
                .map(|(_, v)| v.clone());
            let Some(value) = value.filter(|v| !v.is_null()) else {
                continue;
            };
            held += 1;
            let mut alone = serde_json::json!({ custom::CUSTOM_USER_URN: { def.name.as_str(): value } });
            match one.apply(&mut alone) {
                Ok(index) => insert_values(conn, &OrgId::new(member_org.clone()), member, &index)?,
                Err(e) => {
                    wrong += 1;
                    example.get_or_insert((member.clone(), e.detail));
                }
            }
        }
    }
    if let Some((member, why)) = example {
        return Err(StoreError::Refused(format!(
            "{wrong} member(s) already hold a value of \"{}\" that does not fit this declaration, such as \
             member {member}: {why} Declare it with the type the IdP sends, or correct the values in the IdP \
             (and let it write them) first",
            def.name
        )));
    }
    Ok(held)
}

fn count_for(conn: &mut DbConnection, org: &OrgId) -> Result<usize, StoreError> {
    let n: i64 = d::table
        .filter(d::org_id.eq(org.as_str()).or(d::org_id.is_null()))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The declarations that apply to `org` (its own and the deployment's), by name.
pub fn list(conn: &mut DbConnection, org: &OrgId) -> Result<Vec<AttributeDefinition>, StoreError> {
    Ok(d::table
        .filter(d::org_id.eq(org.as_str()).or(d::org_id.is_null()))
        .order(d::name_norm.asc())
        .limit(i64::try_from(custom::MAX_ATTRIBUTES).unwrap_or(i64::MAX) * 2)
        .select(AttributeDefinition::as_select())
        .load(conn)?)
}

/// The deployment's declarations (for every org).
pub fn list_deployment(conn: &mut DbConnection) -> Result<Vec<AttributeDefinition>, StoreError> {
    Ok(d::table
        .filter(d::org_id.is_null())
        .order(d::name_norm.asc())
        .select(AttributeDefinition::as_select())
        .load(conn)?)
}

/// The org's declarations as the protocol crate's schema.
pub fn schema_for(conn: &mut DbConnection, org: &OrgId) -> Result<CustomSchema, StoreError> {
    Ok(CustomSchema::new(
        list(conn, org)?
            .iter()
            .map(AttributeDefinition::to_custom)
            .collect(),
    ))
}

/// The ID token claims of a member of `org` whose SCIM document is `document`: each declared attribute with a
/// claim and a value in the document. One small indexed query; nothing when the org maps none.
pub fn claims_of(
    conn: &mut DbConnection,
    org: &OrgId,
    document: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    let mapped: Vec<(String, Option<String>)> = d::table
        .filter(d::org_id.eq(org.as_str()).or(d::org_id.is_null()))
        .filter(d::claim.is_not_null())
        .select((d::name, d::claim))
        .load(conn)?;
    let mut out = serde_json::Map::new();
    if mapped.is_empty() {
        return Ok(out);
    }
    let doc: serde_json::Value = serde_json::from_str(document)?;
    let values = CustomSchema::values_of(&doc);
    for (name, claim) in mapped {
        let value = values
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name)))
            .map(|(_, v)| v.clone());
        if let (Some(claim), Some(value)) = (claim, value) {
            out.insert(claim, value);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = v)]
struct NewValue<'a> {
    org_id: &'a str,
    member_id: &'a str,
    attribute: &'a str,
    position: i32,
    value_text: Option<&'a str>,
    value_int: Option<i64>,
    value_dec: Option<f64>,
    value_time: Option<NaiveDateTime>,
}

/// Replaces the indexed values of one member with `values`; run it in the transaction that writes the
/// member's document. Costs the member's values, not the org's.
pub fn write_values(
    conn: &mut DbConnection,
    org: &OrgId,
    member_id: &str,
    values: &[IndexedValue],
) -> Result<(), StoreError> {
    diesel::delete(
        v::table
            .filter(v::member_id.eq(member_id))
            .filter(v::org_id.eq(org.as_str())),
    )
    .execute(conn)?;
    insert_values(conn, org, member_id, values)
}

/// Adds `values` to one member's indexed values.
fn insert_values(
    conn: &mut DbConnection,
    org: &OrgId,
    member_id: &str,
    values: &[IndexedValue],
) -> Result<(), StoreError> {
    if values.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewValue<'_>> = values
        .iter()
        .map(|iv| {
            let mut row = NewValue {
                org_id: org.as_str(),
                member_id,
                attribute: &iv.attribute,
                position: iv.position,
                value_text: None,
                value_int: None,
                value_dec: None,
                value_time: None,
            };
            match &iv.value {
                IndexValue::Text(s) => row.value_text = Some(s),
                IndexValue::Integer(n) => row.value_int = Some(*n),
                IndexValue::Decimal(n) => row.value_dec = Some(*n),
                IndexValue::DateTime(t) => {
                    row.value_time = Some(crate::clock::truncate_micros(t.naive_utc()));
                }
            }
            row
        })
        .collect();
    // One statement per value: `MultiConnection` has no multi-row INSERT, and a member has few values.
    for row in &rows {
        diesel::insert_into(v::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// One indexed value: `(attribute, position, text, integer)`.
pub type IndexedRow = (String, i32, Option<String>, Option<i64>);

/// The indexed values of one member (for tests and support).
pub fn indexed_values(
    conn: &mut DbConnection,
    org: &OrgId,
    member_id: &str,
) -> Result<Vec<IndexedRow>, StoreError> {
    Ok(v::table
        .filter(v::org_id.eq(org.as_str()))
        .filter(v::member_id.eq(member_id))
        .order((v::attribute.asc(), v::position.asc()))
        .select((v::attribute, v::position, v::value_text, v::value_int))
        .load(conn)?)
}
