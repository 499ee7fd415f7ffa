//! `GET /Groups/{id}`.

use crate::app::AppState;
use crate::scim::auth;
use crate::scim::error::ApiError;
use crate::scim::render::{self, Projection};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::GROUP;
use scimd_store::scim::groups;

pub async fn group_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
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
        &render::group(&base, &group, &p),
        group.row.version,
        None,
    ))
}
