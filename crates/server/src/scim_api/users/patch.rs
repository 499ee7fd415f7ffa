//! `PATCH /Users/{id}`: 200 with the User. Okta's path-less `{"active": false}`, Entra's `"Replace"`,
//! `"False"`, value paths and dotted keys are all accepted (the dialect rules that fired are recorded).

use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::scim_api::{auth, etag, limits};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::USER;
use scimd_store::provisioning::users;

pub async fn user_patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let p = Projection::from_request(&req)?;
    let if_match = etag::if_match(&req);
    let prepare = move |body: web::Bytes| limits::patch_request(&body);
    let (caller, (user, outcome)) =
        auth::write_with_body(&state, &req, payload, prepare, move |ctx, conn, patch| {
            users::patch(conn, ctx, &id, if_match, &patch)
        })
        .await?;
    let base = render::base_url(&state, &caller.org);
    let mut res = render::resource(
        StatusCode::OK,
        &render::user(&base, &user, &p.selection(&USER)),
        user.row.version,
        None,
    );
    render::note_dialects(&mut res, &outcome.dialects);
    Ok(res)
}
