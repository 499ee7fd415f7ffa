//! `GET /Users` and `POST /Users/.search`.

use crate::app::AppState;
use crate::scim::error::ApiError;
use crate::scim::limits;
use crate::scim::list::{self, Kind};
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn user_list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let q = list::from_url(&req);
    list::respond(&state, &req, Kind::Users, move || q).await
}

pub async fn user_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = limits::body(&req, payload).await?;
    list::respond(&state, &req, Kind::Users, move || list::from_body(&body)).await
}
