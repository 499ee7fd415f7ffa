//! The transmitter's routes, all in this file: the configuration document, stream management (SSF §8.1)
//! and the poll endpoint (RFC 8936). Every handler but the configuration starts with the caller's API key;
//! every failure is an `SsfError`, which becomes its response in `error.rs`.

use crate::error::SsfError;
use crate::service::{MAX_POLL, PollRequest, SsfService, StreamInput};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_tokens::ApiKeyAuth;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The largest JSON body a management request or a poll may have.
const MAX_BODY: usize = 64 * 1024;
/// How long a long poll (RFC 8936 §2.4, `returnImmediately: false`) waits for a SET before answering empty.
pub const LONG_POLL: Duration = Duration::from_secs(25);
/// How often a long poll looks at the feed while it waits.
const LONG_POLL_STEP: Duration = Duration::from_millis(250);

pub fn configure(service: &SsfService, cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default()
        .limit(MAX_BODY)
        .error_handler(|e, _| SsfError::BadRequest(format!("the body is not the JSON expected: {e}")).into());
    cfg.app_data(web::Data::new(service.clone()))
        .route("/.well-known/ssf-configuration", web::get().to(configuration_get))
        .service(
            web::scope("/ssf")
                .app_data(json)
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    SsfError::BadRequest(format!("the query is not what was expected: {e}")).into()
                }))
                .route("/streams", web::post().to(stream_create))
                .route("/streams", web::get().to(stream_get))
                .route("/streams", web::patch().to(stream_patch))
                .route("/streams", web::put().to(stream_replace))
                .route("/streams", web::delete().to(stream_delete))
                .route("/status", web::get().to(status_get))
                .route("/status", web::post().to(status_set))
                .route("/subjects/add", web::post().to(subject_add))
                .route("/subjects/remove", web::post().to(subject_remove))
                .route("/verify", web::post().to(verify))
                .route("/poll/{stream_id}", web::post().to(poll)),
        );
}

/// Runs `f` on the blocking pool for the caller's key (401 without a live one), admitted under the key's
/// limits (429 over them) for as long as `f` runs.
async fn as_caller<T, F>(service: web::Data<SsfService>, req: &HttpRequest, f: F) -> Result<T, SsfError>
where
    T: Send + 'static,
    F: FnOnce(&SsfService, &ApiKeyAuth) -> Result<T, SsfError> + Send + 'static,
{
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let service = service.get_ref().clone();
    scimd_store::blocking(move || {
        let key = service.authenticate_blocking(authorization.as_deref())?;
        let _admission = service.admit(&key)?;
        f(&service, &key)
    })
    .await
}

pub async fn configuration_get(service: web::Data<SsfService>) -> HttpResponse {
    HttpResponse::Ok().json(service.configuration())
}

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    stream_id: Option<String>,
}

pub async fn stream_create(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<StreamInput>,
) -> Result<HttpResponse, SsfError> {
    let input = body.into_inner();
    let (service, out) = (service.clone(), service.get_ref().clone());
    let stream = as_caller(service, &req, move |s, key| s.create_blocking(key, &input)).await?;
    Ok(HttpResponse::Created().json(out.render(&stream)))
}

pub async fn stream_get(
    service: web::Data<SsfService>,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, SsfError> {
    let out = service.get_ref().clone();
    match query.into_inner().stream_id {
        Some(id) => {
            let stream = as_caller(service, &req, move |s, key| s.get_blocking(key, &id)).await?;
            Ok(HttpResponse::Ok().json(out.render(&stream)))
        }
        None => {
            let streams = as_caller(service, &req, |s, key| s.list_blocking(key)).await?;
            let all: Vec<Value> = streams.iter().map(|s| out.render(s)).collect();
            Ok(HttpResponse::Ok().json(all))
        }
    }
}

async fn update(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<StreamInput>,
    replace: bool,
) -> Result<HttpResponse, SsfError> {
    let input = body.into_inner();
    let out = service.get_ref().clone();
    let stream = as_caller(service, &req, move |s, key| {
        s.update_blocking(key, &input, replace)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out.render(&stream)))
}

pub async fn stream_patch(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<StreamInput>,
) -> Result<HttpResponse, SsfError> {
    update(service, req, body, false).await
}

pub async fn stream_replace(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<StreamInput>,
) -> Result<HttpResponse, SsfError> {
    update(service, req, body, true).await
}

fn required(id: Option<String>) -> Result<String, SsfError> {
    id.filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or_else(|| SsfError::BadRequest("stream_id is required".into()))
}

pub async fn stream_delete(
    service: web::Data<SsfService>,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, SsfError> {
    let id = required(query.into_inner().stream_id)?;
    as_caller(service, &req, move |s, key| s.delete_blocking(key, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn status_get(
    service: web::Data<SsfService>,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, SsfError> {
    let id = required(query.into_inner().stream_id)?;
    let stream = as_caller(service, &req, move |s, key| s.get_blocking(key, &id)).await?;
    Ok(HttpResponse::Ok().json(SsfService::render_status(&stream)))
}

#[derive(Debug, Deserialize)]
pub struct StatusInput {
    stream_id: Option<String>,
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

pub async fn status_set(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<StatusInput>,
) -> Result<HttpResponse, SsfError> {
    let input = body.into_inner();
    let id = required(input.stream_id)?;
    let stream = as_caller(service, &req, move |s, key| {
        s.set_status_blocking(key, &id, &input.status, input.reason.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(SsfService::render_status(&stream)))
}

#[derive(Debug, Deserialize)]
pub struct SubjectInput {
    stream_id: Option<String>,
    subject: Value,
}

pub async fn subject_add(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<SubjectInput>,
) -> Result<HttpResponse, SsfError> {
    let input = body.into_inner();
    let id = required(input.stream_id)?;
    as_caller(service, &req, move |s, key| {
        s.subject_blocking(key, &id, &input.subject, true)
    })
    .await?;
    Ok(HttpResponse::Ok().finish())
}

pub async fn subject_remove(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<SubjectInput>,
) -> Result<HttpResponse, SsfError> {
    let input = body.into_inner();
    let id = required(input.stream_id)?;
    as_caller(service, &req, move |s, key| {
        s.subject_blocking(key, &id, &input.subject, false)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct VerifyInput {
    stream_id: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

pub async fn verify(
    service: web::Data<SsfService>,
    req: HttpRequest,
    body: web::Json<VerifyInput>,
) -> Result<HttpResponse, SsfError> {
    let input = body.into_inner();
    let id = required(input.stream_id)?;
    as_caller(service, &req, move |s, key| {
        s.verify_blocking(key, &id, input.state.as_deref())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// RFC 8936: acknowledgements and errors first, then the SETs waiting (after a wait for one, in a long poll).
pub async fn poll(
    service: web::Data<SsfService>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PollRequest>,
) -> Result<HttpResponse, SsfError> {
    let id = required(Some(path.into_inner()))?;
    let request = body.into_inner();
    let max = request.max_events.unwrap_or(MAX_POLL).clamp(0, MAX_POLL);
    let immediately = request.return_immediately.unwrap_or(false) || max == 0;
    let (ack_id, service_ref) = (id.clone(), service.get_ref().clone());
    as_caller(service, &req, move |s, key| {
        s.acknowledge_blocking(key, &ack_id, &request)
    })
    .await?;
    let deadline = Instant::now() + LONG_POLL;
    loop {
        let (s, stream) = (service_ref.clone(), id.clone());
        let (sets, more) = scimd_store::blocking(move || s.waiting_blocking(&stream, max)).await?;
        if !sets.is_empty() || immediately || Instant::now() + LONG_POLL_STEP > deadline {
            let sets: serde_json::Map<String, Value> = sets
                .into_iter()
                .map(|p| (p.jti, Value::String(p.token)))
                .collect();
            return Ok(HttpResponse::Ok().json(json!({ "sets": sets, "moreAvailable": more })));
        }
        actix_rt::time::sleep(LONG_POLL_STEP).await;
    }
}
