//! The ONE place a SCIM failure becomes an HTTP response: an RFC 7644 §3.12 body as `application/scim+json`,
//! `WWW-Authenticate: Bearer` on 401, `Retry-After` while the deprovisioning safety valve holds, and the
//! `scimType` handed to the provisioning activity recorder. Internal failures are logged here and answered
//! without detail (503 when the database is unavailable, so that IdPs retry).

use crate::activity::ActivityNote;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scimd_scim::ScimError;
use scimd_store::StoreError;
use scimd_store::scim::ScimStoreError;
use scimd_tokens::TokenError;
use std::fmt;

/// What a SCIM handler fails with.
#[derive(Debug)]
pub enum ApiError {
    /// A protocol answer: 400, 401, 404, 409, 412, 413, ...
    Scim(ScimError),
    /// The deprovisioning safety valve holds: 503 with `Retry-After`.
    Held { retry_after_secs: u64 },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Scim(e) => write!(f, "{e}"),
            ApiError::Held { .. } => f.write_str("deprovisioning held by the safety valve"),
        }
    }
}

impl From<ScimError> for ApiError {
    fn from(e: ScimError) -> Self {
        ApiError::Scim(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "SCIM request failed: database unavailable");
            return ApiError::Scim(ScimError::new(
                503,
                None,
                "The service is temporarily unavailable; retry later.",
            ));
        }
        tracing::error!(error = %e, "SCIM request failed");
        ApiError::Scim(ScimError::internal(
            "An internal error occurred; it has been logged.",
        ))
    }
}

impl From<ScimStoreError> for ApiError {
    fn from(e: ScimStoreError) -> Self {
        match e {
            ScimStoreError::Refused(e) => ApiError::Scim(e),
            ScimStoreError::Held { retry_after_secs } => ApiError::Held { retry_after_secs },
            ScimStoreError::Store(e) => e.into(),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Store(s) => s.into(),
            // Every refused credential looks the same from outside.
            _ => ApiError::Scim(ScimError::unauthorized()),
        }
    }
}

impl ApiError {
    fn scim(&self) -> ScimError {
        match self {
            ApiError::Scim(e) => e.clone(),
            ApiError::Held { .. } => ScimError::new(
                503,
                None,
                "Deprovisioning is paused: this organization's safety valve tripped because many members \
                 lost access within an hour. An administrator can release it in Organization Settings.",
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.scim().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let e = self.scim();
        let mut res = crate::scim::render::scim_json(self.status_code(), &e.to_body());
        if e.status == 401 {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::Held { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res.extensions_mut().insert(ActivityNote {
            scim_type: e.scim_type.map(|t| t.as_str().to_owned()),
            dialects: Vec::new(),
        });
        res
    }
}
