//! `GET /Groups` and `POST /Groups/.search`.

use crate::app::AppState;
use crate::scim::error::ApiError;
use crate::scim::limits;
use crate::scim::list::{self, Kind};
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn group_list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let q = list::from_url(&req);
    list::respond(&state, &req, Kind::Groups, move || q).await
}

pub async fn group_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = limits::body(&req, payload).await?;
    list::respond(&state, &req, Kind::Groups, move || list::from_body(&body)).await
}
