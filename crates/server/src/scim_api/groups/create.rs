//! `POST /Groups`: 201 with `Location`; every member must be a User of the org, else nothing is created.

use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::scim_api::{auth, limits};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::GROUP;
use scimd_store::provisioning::groups;

pub async fn group_create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    let p = Projection::from_request(&req)?;
    let with_members = p.shows(&GROUP, "members");
    let prepare = move |body: web::Bytes| limits::group_body(&body);
    let (caller, (group, dialects)) =
        auth::write_with_body(&state, &req, payload, prepare, move |ctx, conn, (v, members)| {
            let rec = groups::create(conn, ctx, &v.doc, &members, &v.dialects)?;
            let rec = if with_members {
                groups::load_members(conn, &ctx.org, rec)?
            } else {
                rec
            };
            Ok((rec, v.dialects))
        })
        .await?;
    let base = render::base_url(&state, &caller.org);
    let location = render::group_location(&base, &group.row.id);
    let mut res = render::resource(
        StatusCode::CREATED,
        &render::group(&base, &group, &p.selection(&GROUP)),
        group.row.version,
        Some(&location),
    );
    render::note_dialects(&mut res, &dialects);
    Ok(res)
}
