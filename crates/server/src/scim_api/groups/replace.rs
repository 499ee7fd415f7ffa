//! `PUT /Groups/{id}`: replaces the Group; the membership becomes the body's `members` (none when absent,
//! RFC 7644 §3.5.1), applied by delta against the rows.

use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::scim_api::{auth, etag, limits};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::GROUP;
use scimd_store::provisioning::groups;

pub async fn group_replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let p = Projection::from_request(&req)?;
    let with_members = p.shows(&GROUP, "members");
    let if_match = etag::if_match(&req);
    let prepare = move |body: web::Bytes| limits::group_body(&body);
    let (caller, (group, dialects)) =
        auth::write_with_body(&state, &req, payload, prepare, move |ctx, conn, (v, members)| {
            let rec = groups::replace(conn, ctx, &id, if_match, &v.doc, &members, &v.dialects)?;
            let rec = if with_members {
                groups::load_members(conn, &ctx.org, rec)?
            } else {
                rec
            };
            Ok((rec, v.dialects))
        })
        .await?;
    let base = render::base_url(&state, &caller.org);
    let mut res = render::resource(
        StatusCode::OK,
        &render::group(&base, &group, &p.selection(&GROUP)),
        group.row.version,
        None,
    );
    render::note_dialects(&mut res, &dialects);
    Ok(res)
}
