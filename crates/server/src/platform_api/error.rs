//! The ONE place a platform API failure becomes an HTTP response: `{"error": CODE, "message": TEXT}` as
//! JSON ([`ErrorBody`], also the OpenAPI document's `Error`), `WWW-Authenticate: Bearer` on 401, `Retry-After`
//! on 429 and on 503 (database unavailable). Internal failures are logged here and answered without detail
//! (503 when the database is unavailable, so that consumers retry).

use crate::org_limiter::{AdmitError, Refusal};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scimd_store::StoreError;
use scimd_tokens::TokenError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum PlatformApiError {
    /// A parameter the API cannot use: 400, naming it.
    #[error("{0}")]
    BadRequest(String),
    /// No key, or not a live API key: 401, one answer for every case.
    #[error("an API key is required")]
    Unauthorized,
    /// The key is bound to another org: 403.
    #[error("this API key cannot see that organization")]
    Forbidden,
    /// No such org, user or group: 404.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// Over the key's request rate or requests in flight: 429 with `Retry-After`.
    #[error("over this API key's limit; retry after {retry_after_secs} s")]
    Limited { retry_after_secs: u64 },
    /// The cursor points before the oldest retained event (some in between were purged): 410.
    #[error("{0}")]
    Gone(String),
    /// The database cannot answer now: 503.
    #[error("database unavailable: {0}")]
    Unavailable(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Every error answer of the platform API.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorCode,
    /// What went wrong, for a person: it may change between releases, unlike `error`.
    pub message: String,
}

/// The error's code: stable, for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    CursorExpired,
    Unavailable,
    Internal,
}

impl From<StoreError> for PlatformApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            PlatformApiError::Unavailable(e)
        } else {
            PlatformApiError::Internal(e.to_string())
        }
    }
}

/// Reads of the feed run as units of work that answer in this API's errors (a refusal rolls back).
impl scimd_store::UnitError for PlatformApiError {}

impl From<AdmitError> for PlatformApiError {
    fn from(e: AdmitError) -> Self {
        match e {
            AdmitError::Refused(Refusal::Rate { retry_after_secs }) => {
                PlatformApiError::Limited { retry_after_secs }
            }
            AdmitError::Refused(Refusal::InFlight { .. }) => {
                PlatformApiError::Limited { retry_after_secs: 1 }
            }
            AdmitError::Store(e) => e.into(),
        }
    }
}

impl From<TokenError> for PlatformApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Unauthorized => PlatformApiError::Unauthorized,
            TokenError::Store(e) => e.into(),
            other => PlatformApiError::Internal(other.to_string()),
        }
    }
}

impl PlatformApiError {
    fn code(&self) -> ErrorCode {
        match self {
            PlatformApiError::BadRequest(_) => ErrorCode::BadRequest,
            PlatformApiError::Unauthorized => ErrorCode::Unauthorized,
            PlatformApiError::Forbidden => ErrorCode::Forbidden,
            PlatformApiError::NotFound(_) => ErrorCode::NotFound,
            PlatformApiError::Limited { .. } => ErrorCode::RateLimited,
            PlatformApiError::Gone(_) => ErrorCode::CursorExpired,
            PlatformApiError::Unavailable(_) => ErrorCode::Unavailable,
            PlatformApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl ResponseError for PlatformApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            PlatformApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PlatformApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            PlatformApiError::Forbidden => StatusCode::FORBIDDEN,
            PlatformApiError::NotFound(_) => StatusCode::NOT_FOUND,
            PlatformApiError::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            PlatformApiError::Gone(_) => StatusCode::GONE,
            PlatformApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PlatformApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            // An outage is logged once by the store, when it starts and when it ends.
            PlatformApiError::Unavailable(e) if e.is_outage() => {
                tracing::debug!(error = %e, "platform API: database unavailable");
                "The database is unavailable; retry shortly.".to_owned()
            }
            PlatformApiError::Unavailable(e) => {
                tracing::warn!(error = %e, "platform API: database unavailable");
                "The database is unavailable; retry shortly.".to_owned()
            }
            PlatformApiError::Internal(e) => {
                tracing::error!(error = %e, "platform API: internal error");
                "Internal error.".to_owned()
            }
            other => other.to_string(),
        };
        let mut res = HttpResponse::build(self.status_code()).json(ErrorBody {
            error: self.code(),
            message,
        });
        match self {
            PlatformApiError::Unauthorized => {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            PlatformApiError::Limited { retry_after_secs } => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            PlatformApiError::Unavailable(_) => {
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(crate::health::UNAVAILABLE_RETRY_AFTER_SECS),
                );
            }
            _ => {}
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_database_is_503_with_retry_after() {
        let res =
            PlatformApiError::from(StoreError::Unreachable("connection refused".into())).error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }

    #[test]
    fn error_codes_are_snake_case_strings() {
        let body = serde_json::to_value(ErrorBody {
            error: PlatformApiError::Gone(String::new()).code(),
            message: "m".into(),
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": "cursor_expired", "message": "m"})
        );
    }
}
