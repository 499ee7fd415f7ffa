//! `DELETE /Groups/{id}`: 204; the group and its membership rows go (the users stay).

use crate::scim_api::error::ScimApiError;
use crate::scim_api::{auth, etag};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_store::provisioning::groups;

pub async fn group_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let if_match = etag::if_match(&req);
    auth::write(&state, &req, move |ctx, conn| {
        groups::delete(conn, ctx, &id, if_match)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
