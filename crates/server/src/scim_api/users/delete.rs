//! `DELETE /Users/{id}`: 204; the member is deprovisioned and hidden from SCIM (later reads are 404).

use crate::scim_api::error::ScimApiError;
use crate::scim_api::{auth, etag};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_store::provisioning::users;

pub async fn user_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let if_match = etag::if_match(&req);
    auth::write(&state, &req, move |ctx, conn| {
        users::delete(conn, ctx, &id, if_match)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
