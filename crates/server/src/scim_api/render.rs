//! Stored records as SCIM JSON: `id`, `meta` (with the weak ETag), a User's `groups` and a Group's `members`
//! from their rows, `attributes`/`excludedAttributes` projection, and responses as `application/scim+json`.

use crate::activity::ActivityNote;
use crate::scim_api::etag;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_scim::projection::{self, Selection};
use scimd_scim::resources::group::{MemberKind, member_entry, set_members};
use scimd_scim::resources::meta::{Meta, set_id_and_meta};
use scimd_scim::schema::ResourceSchema;
use scimd_scim::{Dialect, ScimError};
use scimd_store::OrgId;
use scimd_store::provisioning::groups::GroupRecord;
use scimd_store::provisioning::users::UserRecord;
use serde_json::{Map, Value};

pub const SCIM_JSON: &str = "application/scim+json";

/// A JSON response with the SCIM media type.
pub fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)))
        .body(body.to_string())
}

/// A single resource: with its `ETag`, and `Location` when created.
pub fn resource(status: StatusCode, body: &Value, version: i64, location: Option<&str>) -> HttpResponse {
    let mut res = scim_json(status, body);
    set_etag(&mut res, version);
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    res
}

/// 204 No Content after a write, with the resource's new `ETag`.
pub fn no_content(version: i64) -> HttpResponse {
    let mut res = HttpResponse::NoContent().finish();
    set_etag(&mut res, version);
    res
}

fn set_etag(res: &mut HttpResponse, version: i64) {
    if let Ok(v) = HeaderValue::from_str(&etag::header_value(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
}

/// Records which IdP dialect rules fired: on the response for the activity recorder, and in the log.
pub fn note_dialects(res: &mut HttpResponse, dialects: &[Dialect]) {
    if dialects.is_empty() {
        return;
    }
    let labels: Vec<String> = dialects.iter().map(|d| d.label().to_owned()).collect();
    tracing::info!(dialects = ?labels, "SCIM IdP dialect rules applied");
    res.extensions_mut().insert(ActivityNote {
        scim_type: None,
        dialects: labels,
        detail: None,
    });
}

/// The org's SCIM base URL.
pub fn base_url(state: &AppState, org: &OrgId) -> String {
    format!("{}/scim/v2/{}", state.public_url, org)
}

/// `attributes` / `excludedAttributes` of a single-resource request.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

impl From<&scimd_scim::list::ListQuery> for Projection {
    fn from(q: &scimd_scim::list::ListQuery) -> Self {
        Projection {
            attributes: q.attributes.clone(),
            excluded: q.excluded_attributes.clone(),
        }
    }
}

impl Projection {
    pub fn from_request(req: &HttpRequest) -> Result<Projection, ScimError> {
        let pairs = query_pairs(req)?;
        let q = scimd_scim::list::ListQuery::from_query_pairs(pairs.into_iter().filter(|(k, _)| {
            k.eq_ignore_ascii_case("attributes") || k.eq_ignore_ascii_case("excludedAttributes")
        }))?;
        Ok(Projection {
            attributes: q.attributes,
            excluded: q.excluded_attributes,
        })
    }

    /// Whether the response shows any part of the top-level attribute `name`.
    pub fn shows(&self, schema: &ResourceSchema, name: &str) -> bool {
        projection::is_requested(schema, &self.attributes, &self.excluded, name)
    }

    /// Whether the client asked for a projection at all.
    pub fn is_given(&self) -> bool {
        !self.attributes.is_empty() || !self.excluded.is_empty()
    }

    /// The projection compiled for one resource type, once per response: every document of a list is
    /// projected with the same `Selection`, not by parsing the names again.
    pub fn selection<'s>(&self, schema: &'s ResourceSchema) -> Selection<'s> {
        Selection::new(schema, &self.attributes, &self.excluded)
    }
}

/// The URL query as decoded pairs.
pub fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, ScimError> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .map_err(|_| ScimError::invalid_value("The query string is not valid."))
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

fn meta(
    resource_type: &str,
    location: String,
    created: NaiveDateTime,
    modified: NaiveDateTime,
    version: i64,
) -> Meta {
    Meta {
        resource_type: resource_type.to_owned(),
        created: utc(created),
        last_modified: utc(modified),
        location,
        version: u64::try_from(version).unwrap_or(0),
    }
}

pub fn user_location(base: &str, id: &str) -> String {
    format!("{base}/Users/{id}")
}

pub fn group_location(base: &str, id: &str) -> String {
    format!("{base}/Groups/{id}")
}

/// A User as the response shows it.
pub fn user(base: &str, rec: &UserRecord, selection: &Selection<'_>) -> Value {
    let mut doc = rec.doc.clone();
    let r = &rec.row;
    set_id_and_meta(
        &mut doc,
        &r.id,
        &meta(
            "User",
            user_location(base, &r.id),
            r.created_at,
            r.updated_at,
            r.version,
        ),
    );
    if !rec.groups.is_empty()
        && let Some(o) = doc.as_object_mut()
    {
        let groups: Vec<Value> = rec
            .groups
            .iter()
            .map(|g| {
                let mut m = Map::new();
                m.insert("value".into(), Value::String(g.id.clone()));
                m.insert("$ref".into(), Value::String(group_location(base, &g.id)));
                m.insert("display".into(), Value::String(g.display.clone()));
                m.insert("type".into(), Value::String("direct".into()));
                Value::Object(m)
            })
            .collect();
        o.insert("groups".into(), Value::Array(groups));
    }
    selection.project(&doc)
}

/// A Group as the response shows it (`members` only when they were read).
pub fn group(base: &str, rec: &GroupRecord, selection: &Selection<'_>) -> Value {
    let mut doc = rec.doc.clone();
    let r = &rec.row;
    set_id_and_meta(
        &mut doc,
        &r.id,
        &meta(
            "Group",
            group_location(base, &r.id),
            r.created_at,
            r.updated_at,
            r.version,
        ),
    );
    if let Some(members) = &rec.members
        && !members.is_empty()
    {
        let entries = members
            .iter()
            // No `display`: it is optional, and clients compare the members they sent with those returned.
            .map(|m| member_entry(base, &m.id, MemberKind::User, None))
            .collect();
        set_members(&mut doc, entries);
    }
    selection.project(&doc)
}
