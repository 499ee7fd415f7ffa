//! The discovery documents (from the protocol crate's schema definitions), the base URL itself (Entra ID's
//! "Test Connection" may probe it), and the endpoints scimd does not implement (`/Me`, `/Bulk`: 501).

use crate::scim_api::auth;
use crate::scim_api::error::ScimApiError;
use crate::scim_api::limits::MAX_BODY_BYTES;
use crate::scim_api::render;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scimd_scim::ScimError;
use scimd_scim::discovery::{self, ServiceLimits};
use scimd_scim::schema::CustomSchema;
use scimd_store::models::attributes;
use serde_json::Value;

fn limits() -> ServiceLimits {
    ServiceLimits {
        cursor_pagination: true,
        ..ServiceLimits::default()
    }
}

async fn base(req: &HttpRequest, state: &AppState) -> Result<String, ScimApiError> {
    let caller = auth::verify(state, req).await?;
    Ok(render::base_url(state, &caller.org))
}

/// The base URL and the org's custom attributes (its declarations and the deployment's), read in one
/// transaction after the caller is verified.
async fn base_and_custom(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(String, CustomSchema), ScimApiError> {
    let (caller, custom) = auth::read(state, req, |caller, conn| {
        Ok(attributes::schema_for(conn, &caller.org)?)
    })
    .await?;
    Ok((render::base_url(state, &caller.org), custom))
}

fn ok(body: &Value) -> HttpResponse {
    render::scim_json(StatusCode::OK, body)
}

/// `GET /ServiceProviderConfig` (also the answer to `GET` of the base URL).
pub async fn service_provider_config(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimApiError> {
    let base = base(&req, &state).await?;
    let mut doc = discovery::service_provider_config(&base, &limits());
    // Bulk is not offered; say how large a request body may be anyway.
    if let Some(o) = doc.get_mut("bulk").and_then(Value::as_object_mut) {
        o.insert("maxPayloadSize".into(), Value::from(MAX_BODY_BYTES));
    }
    Ok(ok(&doc))
}

pub async fn resource_types(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimApiError> {
    let (base, custom) = base_and_custom(&req, &state).await?;
    Ok(ok(&discovery::resource_types(&base, &custom)))
}

pub async fn resource_type(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let (base, custom) = base_and_custom(&req, &state).await?;
    let (_, name) = path.into_inner();
    discovery::resource_type_by_name(&base, &name, &custom)
        .map(|d| ok(&d))
        .ok_or_else(|| ScimError::not_found(format!("ResourceType {name}")).into())
}

pub async fn schemas(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimApiError> {
    let (base, custom) = base_and_custom(&req, &state).await?;
    Ok(ok(&discovery::schemas(&base, &custom)))
}

pub async fn schema(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimApiError> {
    let (base, custom) = base_and_custom(&req, &state).await?;
    let (_, id) = path.into_inner();
    discovery::schema_by_id(&base, &id, &custom)
        .map(|d| ok(&d))
        .ok_or_else(|| ScimError::not_found(format!("Schema {id}")).into())
}

/// `/Me`: scimd authenticates IdPs, not users, so there is no "me".
pub async fn me(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimApiError> {
    base(&req, &state).await?;
    Err(ScimError::not_implemented(
        "/Me is not supported: SCIM tokens belong to an organization, not a user.",
    )
    .into())
}

pub async fn bulk(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimApiError> {
    base(&req, &state).await?;
    Err(ScimError::not_implemented("Bulk operations are not supported (see /ServiceProviderConfig).").into())
}

/// Unknown paths under the base URL.
pub async fn not_found(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimApiError> {
    auth::note_verified_token(&state, &req).await;
    Err(ScimError::not_found(format!("The endpoint {}", req.path())).into())
}

/// A known path with a method it does not take.
pub async fn method_not_allowed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimApiError> {
    auth::note_verified_token(&state, &req).await;
    Err(ScimError::method_not_allowed(req.method(), "the methods RFC 7644 defines for this endpoint").into())
}
