//! `GET /Groups/{id}`.

use crate::scim_api::auth;
use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::GROUP;
use scimd_store::provisioning::groups;

pub async fn group_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let p = Projection::from_request(&req)?;
    let with_members = p.shows(&GROUP, "members");
    let (caller, group) = auth::read(&state, &req, move |caller, conn| {
        groups::get(conn, &caller.org, &id, with_members)
    })
    .await?;
    let base = render::base_url(&state, &caller.org);
    Ok(render::resource(
        StatusCode::OK,
        &render::group(&base, &group, &p.selection(&GROUP)),
        group.row.version,
        None,
    ))
}
