//! The ONE place a SCIM failure becomes an HTTP response: an RFC 7644 §3.12 body as `application/scim+json`,
//! `WWW-Authenticate: Bearer` on 401, `Retry-After` on 429 (an org's limits), on 503 while the deprovisioning
//! safety valve holds and while the database is unavailable, and the
//! `scimType` handed to the provisioning activity recorder. Internal failures are logged here and answered
//! without detail (503 when the database is unavailable, so that IdPs retry).

use crate::activity::ActivityNote;
use crate::org_limiter::{AdmitError, Refusal};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scimd_scim::ScimError;
use scimd_store::StoreError;
use scimd_store::provisioning::ScimStoreError;
use scimd_tokens::TokenError;

/// What a SCIM handler fails with.
#[derive(Debug, thiserror::Error)]
pub enum ScimApiError {
    /// A protocol answer: 400, 401, 404, 409, 412, 413, ...
    #[error("{0}")]
    Scim(ScimError),
    /// The deprovisioning safety valve holds: 503 with `Retry-After`.
    #[error("deprovisioning held by the safety valve")]
    Held { retry_after_secs: u64 },
    /// Over the org's request rate or requests in flight: 429 with `Retry-After`.
    #[error("over the org's limit")]
    Limited(Refusal),
    /// The database cannot take the request now: 503, so that IdPs retry.
    #[error("database unavailable: {0}")]
    Unavailable(StoreError),
    /// Anything else that is not the request's fault: 500 without detail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ScimError> for ScimApiError {
    fn from(e: ScimError) -> Self {
        ScimApiError::Scim(e)
    }
}

impl From<StoreError> for ScimApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            ScimApiError::Unavailable(e)
        } else {
            ScimApiError::Internal(e.to_string())
        }
    }
}

impl From<ScimStoreError> for ScimApiError {
    fn from(e: ScimStoreError) -> Self {
        match e {
            ScimStoreError::Refused(e) | ScimStoreError::RefusedAudited(e) => ScimApiError::Scim(e),
            ScimStoreError::Held { retry_after_secs } => ScimApiError::Held { retry_after_secs },
            ScimStoreError::Store(e) => e.into(),
        }
    }
}

impl From<AdmitError> for ScimApiError {
    fn from(e: AdmitError) -> Self {
        match e {
            AdmitError::Refused(r) => ScimApiError::Limited(r),
            AdmitError::Store(s) => s.into(),
        }
    }
}

/// The reads of `scim_api::auth::read` run as the store's unit of work with this error; none commits.
impl scimd_store::UnitError for ScimApiError {}

impl From<TokenError> for ScimApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Store(s) => s.into(),
            // Every refused credential looks the same from outside.
            _ => ScimApiError::Scim(ScimError::unauthorized()),
        }
    }
}

impl ScimApiError {
    fn scim(&self) -> ScimError {
        match self {
            ScimApiError::Scim(e) => e.clone(),
            ScimApiError::Unavailable(_) => {
                ScimError::unavailable("The service is temporarily unavailable; retry later.")
            }
            ScimApiError::Internal(_) => {
                ScimError::internal("An internal error occurred; it has been logged.")
            }
            ScimApiError::Limited(Refusal::Rate { .. }) => ScimError::too_many_requests(
                "This organization is sending requests faster than its rate limit; retry after the \
                 Retry-After seconds.",
            ),
            ScimApiError::Limited(Refusal::InFlight { in_flight }) => ScimError::too_many_requests(format!(
                "This organization already has {in_flight} requests in progress, its limit; retry after \
                 the Retry-After seconds."
            )),
            ScimApiError::Held { .. } => ScimError::unavailable(
                "Deprovisioning is paused: this organization's safety valve tripped because many members \
                 lost access within an hour. An administrator can release it in Organization Settings.",
            ),
        }
    }
}

impl ScimApiError {
    /// What `Retry-After` says, where the answer has one.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ScimApiError::Held { retry_after_secs } => Some(*retry_after_secs),
            ScimApiError::Limited(Refusal::Rate { retry_after_secs }) => Some(*retry_after_secs),
            // A slot frees when one of the org's requests ends, typically well within a second.
            ScimApiError::Limited(Refusal::InFlight { .. }) => Some(1),
            ScimApiError::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            ScimApiError::Scim(_) | ScimApiError::Internal(_) => None,
        }
    }
}

/// `Retry-After` of a 503 for an unavailable database (a busy SQLite file, a cancelled statement).
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl ResponseError for ScimApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.scim().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        // Logged here, where the response is made: the detail goes to the log, never to the IdP.
        match self {
            // An outage is logged once by the store, when it starts and when it ends.
            ScimApiError::Unavailable(err) if err.is_outage() => {
                tracing::debug!(error = %err, "SCIM request failed: database unavailable")
            }
            ScimApiError::Unavailable(err) => {
                tracing::warn!(error = %err, "SCIM request failed: database unavailable")
            }
            ScimApiError::Internal(err) => tracing::error!(error = %err, "SCIM request failed"),
            ScimApiError::Limited(r) => tracing::debug!(refusal = ?r, "SCIM request over the org's limit"),
            ScimApiError::Scim(_) | ScimApiError::Held { .. } => {}
        }
        let e = self.scim();
        let mut res = crate::scim_api::render::scim_json(self.status_code(), &e.to_body());
        if e.status == 401 {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after_secs()
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res.extensions_mut().insert(ActivityNote {
            scim_type: e.scim_type.map(|t| t.as_str().to_owned()),
            dialects: Vec::new(),
            detail: Some(e.detail.clone()),
        });
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_or_unwritable_database_is_503_with_retry_after() {
        for err in [
            StoreError::Unreachable("connection refused".into()),
            StoreError::Unwritable("database or disk is full".into()),
        ] {
            let res = ScimApiError::from(err).error_response();
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
        }
    }
}
