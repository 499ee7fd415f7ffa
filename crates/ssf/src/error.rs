//! `SsfError`, the crate's one error type, and the ONE place the transmitter's failures become HTTP responses:
//! `{"err": CODE, "description": TEXT}` (the shape of RFC 8935 §2.3 and RFC 8936 §2.6, which SSF's stream
//! management borrows), `WWW-Authenticate: Bearer` on 401, `Retry-After` on 429 and 503. Internal failures are logged
//! here and answered without detail.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scimd_store::StoreError;
use scimd_tokens::TokenError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum SsfError {
    /// A request the transmitter cannot use: 400, saying why.
    #[error("{0}")]
    BadRequest(String),
    /// No API key, or not a live one: 401, one answer for every case.
    #[error("a platform API key is required (Authorization: Bearer scimd_ak_...)")]
    Unauthorized,
    /// No stream with this id that the caller's key owns (another key's stream is not found either): 404.
    #[error("no stream with this stream_id")]
    NotFound,
    /// The key already has the most streams it may have: 409 (SSF §8.1.1.1).
    #[error("this API key already has {max} streams, the most it may have; delete one first")]
    TooManyStreams { max: usize },
    /// A subject that names no member of the stream's org: 400 (SSF §8.1.3).
    #[error("the subject names no member this stream can carry")]
    UnknownSubject,
    /// The push endpoint may not be used (address policy): 400.
    #[error(transparent)]
    Endpoint(#[from] scimd_webhooks::WebhookError),
    #[error("the signing key could not be used: {0}")]
    Key(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Over the API key's request rate or requests in flight (the platform API's limits): 429 with
    /// `Retry-After`.
    #[error("over this API key's limit; retry after {retry_after_secs} s")]
    Limited { retry_after_secs: u64 },
    /// The receiver changed the stream meanwhile (another request or process): the caller retries.
    #[error("the stream changed meanwhile")]
    Conflict,
}

impl From<serde_json::Error> for SsfError {
    fn from(e: serde_json::Error) -> Self {
        SsfError::Store(StoreError::from(e))
    }
}

impl From<scimd_signin::oauth::ProviderError> for SsfError {
    fn from(e: scimd_signin::oauth::ProviderError) -> Self {
        match e {
            scimd_signin::oauth::ProviderError::Store(e) => SsfError::Store(e),
            scimd_signin::oauth::ProviderError::Token(e) => SsfError::Token(e),
            other => SsfError::Key(other.to_string()),
        }
    }
}

/// Units of work of this crate answer in its errors (a refusal rolls back).
impl scimd_store::UnitError for SsfError {}

impl SsfError {
    /// The database cannot answer now (the caller waits and retries).
    pub fn is_unavailable(&self) -> bool {
        match self {
            SsfError::Store(e) => e.is_unavailable(),
            SsfError::Token(e) => e.is_unavailable(),
            _ => false,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SsfError::BadRequest(_) | SsfError::UnknownSubject | SsfError::Endpoint(_) => "invalid_request",
            SsfError::Unauthorized => "authentication_failed",
            SsfError::NotFound => "not_found",
            SsfError::TooManyStreams { .. } | SsfError::Conflict => "conflict",
            SsfError::Limited { .. } => "rate_limited",
            _ if self.is_unavailable() => "unavailable",
            _ => "internal_error",
        }
    }
}

impl ResponseError for SsfError {
    fn status_code(&self) -> StatusCode {
        match self {
            SsfError::BadRequest(_) | SsfError::UnknownSubject | SsfError::Endpoint(_) => {
                StatusCode::BAD_REQUEST
            }
            SsfError::Unauthorized => StatusCode::UNAUTHORIZED,
            SsfError::NotFound => StatusCode::NOT_FOUND,
            SsfError::TooManyStreams { .. } | SsfError::Conflict => StatusCode::CONFLICT,
            SsfError::Token(TokenError::Unauthorized) => StatusCode::UNAUTHORIZED,
            SsfError::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ if self.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        let description = match status {
            StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(error = %self, "ssf: internal error");
                "internal error".to_owned()
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("2")));
                "the database is unavailable; retry shortly".to_owned()
            }
            StatusCode::TOO_MANY_REQUESTS => {
                if let SsfError::Limited { retry_after_secs } = self {
                    res.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
                }
                self.to_string()
            }
            StatusCode::UNAUTHORIZED => {
                res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
                SsfError::Unauthorized.to_string()
            }
            _ => self.to_string(),
        };
        let code = match status {
            StatusCode::UNAUTHORIZED => "authentication_failed",
            _ => self.code(),
        };
        res.json(json!({ "err": code, "description": description }))
    }
}
