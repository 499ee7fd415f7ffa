//! `POST /.search` on the base URL (RFC 7644 §3.4.3): Users then Groups, paged by `startIndex` over the two
//! in that order. A filter that names attributes of only one resource type searches that type only; one that
//! fits neither is `invalidFilter`. `sortBy` and cursors need one resource type: use `/Users/.search` or
//! `/Groups/.search`.

use crate::scim_api::auth;
use crate::scim_api::error::ScimApiError;
use crate::scim_api::list;
use crate::scim_api::render::{self, Projection};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::ScimError;
use scimd_scim::list::ListResponse;
use scimd_scim::schema::{GROUP, USER};
use scimd_store::models::attributes;
use scimd_store::provisioning::paging::Paging;
use scimd_store::provisioning::{ListSpec, groups, users};

pub async fn root_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    let backend = state.store.backend();
    let (caller, (q, total, users_page, groups_page)) =
        auth::read_body(&state, &req, payload, move |caller, conn, body| {
            let q = list::from_body(&body)?;
            if q.sort_by.is_some() || q.cursor.is_some() {
                return Err(ScimError::invalid_value(
                    "sortBy and cursor need one resource type: search /Users/.search or /Groups/.search.",
                )
                .into());
            }
            let fu = if q.filter_names_custom() {
                q.resolve_filter_with(&USER, &attributes::schema_for(conn, &caller.org)?)
            } else {
                q.resolve_filter(&USER)
            };
            let fg = q.resolve_filter(&GROUP);
            if let (Err(e), Err(_)) = (&fu, &fg) {
                return Err(e.clone().into());
            }
            let p = Projection::from(&q);
            let offset = q.start_index - 1;
            let count = q.page_size();
            let mut total = 0;
            let mut users_page = Vec::new();
            if let Ok(f) = &fu {
                let spec = ListSpec {
                    filter: f.as_ref(),
                    sort: None,
                    descending: false,
                    paging: Paging::Index {
                        start_index: q.start_index,
                    },
                    count,
                };
                let page = users::list(conn, backend, &caller.org, &spec, p.shows(&USER, "groups"))?;
                total += page.total;
                users_page = page.items;
            }
            let mut groups_page = Vec::new();
            if let Ok(f) = &fg {
                let spec = ListSpec {
                    filter: f.as_ref(),
                    sort: None,
                    descending: false,
                    paging: Paging::Index {
                        start_index: offset.saturating_sub(total) + 1,
                    },
                    count: count - users_page.len() as u64,
                };
                let page = groups::list(conn, backend, &caller.org, &spec, p.shows(&GROUP, "members"))?;
                total += page.total;
                groups_page = page.items;
            }
            Ok((q, total, users_page, groups_page))
        })
        .await?;
    let base = render::base_url(&state, &caller.org);
    let p = Projection::from(&q);
    let (user_selection, group_selection) = (p.selection(&USER), p.selection(&GROUP));
    let resources = users_page
        .iter()
        .map(|u| render::user(&base, u, &user_selection))
        .chain(
            groups_page
                .iter()
                .map(|g| render::group(&base, g, &group_selection)),
        )
        .collect();
    let body = ListResponse::new(total, q.start_index, resources).to_value();
    Ok(render::scim_json(StatusCode::OK, &body))
}
