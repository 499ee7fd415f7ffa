//! `GET /Users/{id}`: 404 for an id the org does not hold (another org's ids included).

use crate::scim_api::auth;
use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::USER;
use scimd_store::provisioning::users;

pub async fn user_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let p = Projection::from_request(&req)?;
    let with_groups = p.shows(&USER, "groups");
    let (caller, user) = auth::read(&state, &req, move |caller, conn| {
        users::get(conn, &caller.org, &id, with_groups)
    })
    .await?;
    let base = render::base_url(&state, &caller.org);
    Ok(render::resource(
        StatusCode::OK,
        &render::user(&base, &user, &p.selection(&USER)),
        user.row.version,
        None,
    ))
}
