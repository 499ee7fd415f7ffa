//! `PUT /Users/{id}`: replaces the User; `active: false` deprovisions through the one lifecycle path.

use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::scim_api::{auth, etag, limits};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::resources::validate;
use scimd_scim::schema::USER;
use scimd_store::provisioning::users;

pub async fn user_replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let p = Projection::from_request(&req)?;
    let if_match = etag::if_match(&req);
    let prepare = move |body: web::Bytes| validate(&limits::parse_json(&body)?, &USER);
    let (caller, (user, dialects)) =
        auth::write_with_body(&state, &req, payload, prepare, move |ctx, conn, v| {
            Ok((
                users::replace(conn, ctx, &id, if_match, &v.doc, &v.dialects)?,
                v.dialects,
            ))
        })
        .await?;
    let base = render::base_url(&state, &caller.org);
    let mut res = render::resource(
        StatusCode::OK,
        &render::user(&base, &user, &p.selection(&USER)),
        user.row.version,
        None,
    );
    render::note_dialects(&mut res, &dialects);
    Ok(res)
}
