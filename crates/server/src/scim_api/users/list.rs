//! `GET /Users` and `POST /Users/.search`.

use crate::scim_api::error::ScimApiError;
use crate::scim_api::list;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::schema::ResourceKind;

pub async fn user_list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimApiError> {
    let q = list::from_url(&req);
    list::respond(&state, &req, ResourceKind::User, list::Query::Url(Box::new(q))).await
}

pub async fn user_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimApiError> {
    list::respond(&state, &req, ResourceKind::User, list::Query::Body(payload)).await
}
