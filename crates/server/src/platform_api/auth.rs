//! Who is calling the platform API: the API key of `Authorization: Bearer scimd_ak_...`, admitted under the
//! key's own limits (a bucket and in-flight slots, the SCIM API's defaults), held for the whole request.

use crate::org_limiter::Admission;
use crate::platform_api::error::PlatformApiError;
use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::http::header;
use scimd_store::OrgId;
use scimd_tokens::ApiKeyAuth;

/// The live key of the request and its admission; 401 without one, 429 over its limits. Every handler starts
/// here, so this is also where a URL holding a NUL (no org, id or cursor holds one; PostgreSQL refuses it in
/// text) is 400 before any database work.
pub async fn admit(state: &AppState, req: &HttpRequest) -> Result<(ApiKeyAuth, Admission), PlatformApiError> {
    if crate::scim_api::limits::holds_nul(req.uri()) {
        return Err(PlatformApiError::BadRequest(
            "the URL holds a NUL character (%00), which no org, id or parameter holds".into(),
        ));
    }
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let keys = state.api_keys.clone();
    let limits = state.limits.clone();
    scimd_store::blocking(move || {
        let key = keys.verify_blocking(authorization.as_deref())?;
        let admission = limits.admit(&OrgId::new(format!("api-key:{}", key.id)))?;
        Ok::<_, PlatformApiError>((key, admission))
    })
    .await
}

/// The org of the path, if the key may see it (403 otherwise: a bound key never learns whether another org
/// exists).
pub fn org_of(key: &ApiKeyAuth, org: &str) -> Result<OrgId, PlatformApiError> {
    let org = OrgId::new(org);
    if key.sees(&org) {
        Ok(org)
    } else {
        Err(PlatformApiError::Forbidden)
    }
}
