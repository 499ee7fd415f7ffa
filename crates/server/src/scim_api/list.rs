//! Lists and searches (`GET /Users`, `POST /Users/.search`, the same for Groups, and `POST /.search` over
//! both): query parameters or a SearchRequest body into the store's `ListSpec`, and the ListResponse with
//! index paging (`startIndex`) or RFC 9865 cursors (`cursor`, `nextCursor`).
//!
//! `count` is clamped to `scimd_scim::list::MAX_COUNT` (1,000; advertised as `filter.maxResults`), a
//! `startIndex` below 1 is 1, `totalResults` is exact, and the order is total (the sort key, then insertion
//! order) so that pages are stable.

use crate::scim_api::auth::{self, Caller};
use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::ScimError;
use scimd_scim::list::{ListQuery, ListResponse, SearchRequest, SortOrder};
use scimd_scim::schema::ResourceKind;
use scimd_store::models::attributes;
use scimd_store::provisioning::paging::{self, Paging};
use scimd_store::provisioning::{ListSpec, ScimStoreError, groups, users};
use scimd_store::{Backend, DbConnection};
use serde_json::Value;

/// The query of `GET` (URL parameters).
pub fn from_url(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    ListQuery::from_query_pairs(render::query_pairs(req)?)
}

/// The query of `POST .search` (a SearchRequest body).
pub fn from_body(body: &[u8]) -> Result<ListQuery, ScimError> {
    let value = crate::scim_api::limits::parse_json(body)?;
    let req: SearchRequest = serde_json::from_value(value)
        .map_err(|e| ScimError::invalid_syntax(format!("The body is not a SearchRequest: {e}.")))?;
    ListQuery::from_search_request(&req)
}

fn fingerprint(q: &ListQuery, kind: ResourceKind) -> String {
    let filter = q.filter.as_ref().map(ToString::to_string).unwrap_or_default();
    let sort = q.sort_by.as_ref().map(ToString::to_string).unwrap_or_default();
    let order = if q.sort_order == SortOrder::Descending {
        "d"
    } else {
        "a"
    };
    let kind = if kind == ResourceKind::User { "u" } else { "g" };
    paging::fingerprint(&[kind, &filter, &sort, order])
}

/// Where a list's query comes from.
pub enum Query {
    /// `GET`: the URL's parameters (parsed already; an error is answered after the token check).
    Url(Box<Result<ListQuery, ScimError>>),
    /// `POST .search`: a SearchRequest body, read once the token is accepted.
    Body(web::Payload),
}

type Page = (ListQuery, u64, Rendered, Option<paging::Position>);

/// Answers a list or search of one resource type. The query is parsed after the caller is verified (a bad
/// token is 401 whatever the query).
pub async fn respond(
    state: &AppState,
    req: &HttpRequest,
    kind: ResourceKind,
    query: Query,
) -> Result<HttpResponse, ScimApiError> {
    let backend = state.store.backend();
    let (caller, (q, total, items, next)) = match query {
        Query::Url(q) => {
            auth::read(state, req, move |caller, conn| {
                page(conn, backend, caller, kind, (*q)?)
            })
            .await?
        }
        Query::Body(payload) => {
            auth::read_body(state, req, payload, move |caller, conn, body| {
                page(conn, backend, caller, kind, from_body(&body)?)
            })
            .await?
        }
    };
    let base = render::base_url(state, &caller.org);
    let selection = Projection::from(&q).selection(kind.schema());
    let resources: Vec<Value> = match &items {
        Rendered::Users(v) => v.iter().map(|u| render::user(&base, u, &selection)).collect(),
        Rendered::Groups(v) => v.iter().map(|g| render::group(&base, g, &selection)).collect(),
    };
    let body = if q.cursor.is_some() {
        let fp = fingerprint(&q, kind);
        ListResponse::with_cursors(total, resources, next.map(|pos| paging::encode(pos, &fp)), None)
    } else {
        ListResponse::new(total, q.start_index, resources)
    };
    Ok(render::scim_json(StatusCode::OK, &body.to_value()))
}

/// One page of the org's Users or Groups.
fn page(
    conn: &mut DbConnection,
    backend: Backend,
    caller: &Caller,
    kind: ResourceKind,
    q: ListQuery,
) -> Result<Page, ScimStoreError> {
    let schema = kind.schema();
    // The org's declarations are read only when the filter names the custom extension: lookups by userName
    // or externalId (most of an IdP's lists) cost no extra query.
    let filter = if kind == ResourceKind::User && q.filter_names_custom() {
        q.resolve_filter_with(schema, &attributes::schema_for(conn, &caller.org)?)?
    } else {
        q.resolve_filter(schema)?
    };
    let sort = q.resolve_sort(schema)?;
    let p = Projection::from(&q);
    let spec = ListSpec {
        filter: filter.as_ref(),
        sort: sort.as_ref(),
        descending: q.sort_order == SortOrder::Descending,
        paging: Paging::from_request(q.start_index, q.cursor.as_deref(), fingerprint(&q, kind))?,
        count: q.page_size(),
    };
    let (total, items, next) = match kind {
        ResourceKind::User => {
            let page = users::list(conn, backend, &caller.org, &spec, p.shows(schema, "groups"))?;
            (page.total, Rendered::Users(page.items), page.next)
        }
        ResourceKind::Group => {
            let page = groups::list(conn, backend, &caller.org, &spec, p.shows(schema, "members"))?;
            (page.total, Rendered::Groups(page.items), page.next)
        }
    };
    Ok((q, total, items, next))
}

pub enum Rendered {
    Users(Vec<users::UserRecord>),
    Groups(Vec<groups::GroupRecord>),
}
