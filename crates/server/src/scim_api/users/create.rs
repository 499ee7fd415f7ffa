//! `POST /Users`: 201 with `Location`; a userName the org's member already has links that member when SCIM
//! does not manage it yet (the org owner), else 409 `uniqueness`.

use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::scim_api::{auth, limits};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::resources::validate;
use scimd_scim::schema::USER;
use scimd_store::provisioning::users;

pub async fn user_create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    let p = Projection::from_request(&req)?;
    let (caller, (created, dialects)) = auth::write_with_body(
        &state,
        &req,
        payload,
        move |body: web::Bytes| validate(&limits::parse_json(&body)?, &USER),
        |ctx, conn, v| Ok((users::create(conn, ctx, &v.doc, &v.dialects)?, v.dialects)),
    )
    .await?;
    let base = render::base_url(&state, &caller.org);
    let user = &created.user;
    if created.linked {
        tracing::info!(member = %user.row.id, "SCIM create linked an existing member");
    }
    let location = render::user_location(&base, &user.row.id);
    let mut res = render::resource(
        StatusCode::CREATED,
        &render::user(&base, user, &p.selection(&USER)),
        user.row.version,
        Some(&location),
    );
    render::note_dialects(&mut res, &dialects);
    Ok(res)
}
