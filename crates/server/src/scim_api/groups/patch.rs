//! `PATCH /Groups/{id}`: the document by the PATCH engine, the membership by delta (insert the added rows,
//! delete the removed ones). Every added id must be a User of the org, else nothing is written.
//!
//! The answer is 200 with the Group when the request says which attributes it wants back
//! (`attributes` / `excludedAttributes`, RFC 7644 §3.5.2), and otherwise 204 No Content, which RFC 7644
//! allows and Okta and Entra ID both accept: a full Group includes every member, and re-reading 100,000
//! member rows after adding one would make each batch of an IdP's group push cost the whole group.

use crate::scim_api::error::ScimApiError;
use crate::scim_api::render::{self, Projection};
use crate::scim_api::{auth, etag, limits};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::GROUP;
use scimd_store::provisioning::groups;

pub async fn group_patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    let (_, id) = path.into_inner();
    let p = Projection::from_request(&req)?;
    let respond_with_resource = p.is_given();
    let with_members = respond_with_resource && p.shows(&GROUP, "members");
    let if_match = etag::if_match(&req);
    let prepare = move |body: web::Bytes| limits::patch_request(&body);
    let (caller, (group, outcome)) =
        auth::write_with_body(&state, &req, payload, prepare, move |ctx, conn, patch| {
            let (rec, outcome) =
                groups::patch(conn, ctx, &id, if_match, &patch, limits::MAX_MEMBERS_PER_REQUEST)?;
            let rec = if with_members {
                groups::load_members(conn, &ctx.org, rec)?
            } else {
                rec
            };
            Ok((rec, outcome))
        })
        .await?;
    let mut res = if respond_with_resource {
        let base = render::base_url(&state, &caller.org);
        render::resource(
            StatusCode::OK,
            &render::group(&base, &group, &p.selection(&GROUP)),
            group.row.version,
            None,
        )
    } else {
        render::no_content(group.row.version)
    };
    render::note_dialects(&mut res, &outcome.dialects);
    Ok(res)
}
