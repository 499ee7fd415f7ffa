//! The one error type of the crate: [`ScimError`], an HTTP status, an optional RFC 7644 §3.12 `scimType`
//! and a detail written for the IdP administrator who reads it in their provisioning log.
//!
//! The crate knows nothing of HTTP frameworks: the SCIM API turns a `ScimError` into a response in exactly
//! one place, using [`ScimError::status`] and [`ScimError::to_body`].

use serde_json::{Value, json};
use std::fmt;

/// The URN of the SCIM error message (RFC 7644 §3.12).
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` error codes of RFC 7644 §3.12 (Table 9) plus the cursor errors of RFC 9865.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax was invalid or the filter names an unknown attribute or misuses an operator.
    InvalidFilter,
    /// The filter yields more results than the server is willing to compute.
    TooMany,
    /// One or more of the attribute values are already in use or are reserved.
    Uniqueness,
    /// The attempted modification is not compatible with the target attribute's mutability.
    Mutability,
    /// The request body structure was invalid or did not conform to the request schema.
    InvalidSyntax,
    /// The `path` attribute was invalid or malformed.
    InvalidPath,
    /// The `path` did not yield an attribute or value that could be operated on.
    NoTarget,
    /// A required value was missing, or the value specified was not compatible.
    InvalidValue,
    /// The specified SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because sensitive information was passed in the URI.
    Sensitive,
    /// RFC 9865: the cursor is unknown, malformed or belongs to another query.
    InvalidCursor,
    /// RFC 9865: the cursor has expired.
    ExpiredCursor,
}

impl ScimType {
    /// The keyword as it appears in the `scimType` member of an error body.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
            Self::InvalidCursor => "invalidCursor",
            Self::ExpiredCursor => "expiredCursor",
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM protocol error: what the SCIM API answers with, as a §3.12 error body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}{}: {detail}", scim_type.map(|t| format!(" {t}")).unwrap_or_default())]
pub struct ScimError {
    /// The HTTP status code.
    pub status: u16,
    /// The RFC 7644 `scimType`, for the 400, 409 and 403 errors that have one.
    pub scim_type: Option<ScimType>,
    /// A human-readable explanation, written for the IdP administrator.
    pub detail: String,
}

impl ScimError {
    /// An error with the given status, type and detail.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }
    /// 400 `tooMany`.
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::TooMany, detail)
    }
    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }
    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }
    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }
    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }
    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }
    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }
    /// 400 `invalidVers`.
    pub fn invalid_vers(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidVers, detail)
    }
    /// 403 `sensitive`.
    pub fn sensitive(detail: impl Into<String>) -> Self {
        Self::new(403, Some(ScimType::Sensitive), detail)
    }
    /// 400 `invalidCursor` (RFC 9865).
    pub fn invalid_cursor(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidCursor, detail)
    }
    /// 400 `expiredCursor` (RFC 9865).
    pub fn expired_cursor(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::ExpiredCursor, detail)
    }
    /// 404 for a resource that does not exist (or is hidden from SCIM).
    pub fn not_found(what: impl fmt::Display) -> Self {
        Self::new(404, None, format!("{what} not found"))
    }
    /// 401: missing, malformed, unknown, expired or revoked bearer token. The detail never says which.
    pub fn unauthorized() -> Self {
        Self::new(
            401,
            None,
            "Authorization failure: the bearer token is missing, invalid or revoked",
        )
    }
    /// 403 without a `scimType`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, None, detail)
    }
    /// 409 without a `scimType` (e.g. a version conflict).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, None, detail)
    }
    /// 412: the `If-Match` version does not match the resource's current version.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }
    /// 413: the request body exceeds the advertised `maxPayloadSize`.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }
    /// 405: the endpoint exists but does not take this method; `allowed` lists the methods it takes.
    pub fn method_not_allowed(method: impl fmt::Display, allowed: &str) -> Self {
        Self::new(
            405,
            None,
            format!("The method {method} is not allowed here; use {allowed}."),
        )
    }
    /// 415: the body's content type is neither `application/scim+json` nor `application/json`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            None,
            "Send the body as application/scim+json (or application/json).",
        )
    }
    /// 400 `tooMany`: one request names more group members than the service takes at once. The one rule
    /// and message for the member limit, whether the members come in a POST/PUT body or a PATCH.
    pub fn too_many_members(n: usize, max: usize) -> Self {
        Self::too_many(format!(
            "One request may add or remove at most {max} group members; this one names {n}. \
             Send the rest with PATCH, in batches of at most {max}."
        ))
    }
    /// 429: the client should retry later.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(429, None, detail)
    }
    /// 500: an internal failure. The detail must not leak internals; log them instead.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }
    /// 503: the service is temporarily unable to answer (the database is busy or unreachable); the
    /// client may retry. The detail must not leak internals.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, None, detail)
    }
    /// 501: a feature this service provider does not implement (e.g. `/Bulk`).
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
    }

    /// The HTTP status code.
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// The RFC 7644 §3.12 error body: `schemas`, `status` as a string, `scimType` when set, `detail`.
    pub fn to_body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(obj)) = (self.scim_type, body.as_object_mut()) {
            obj.insert("scimType".to_owned(), Value::String(t.as_str().to_owned()));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_follows_rfc_7644_section_3_12() {
        let body = ScimError::invalid_filter("bad").to_body();
        assert_eq!(
            body,
            json!({"schemas": [ERROR_URN], "status": "400", "scimType": "invalidFilter", "detail": "bad"})
        );
        let body = ScimError::not_found("User 42").to_body();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
        assert_eq!(body["detail"], "User 42 not found");
    }

    #[test]
    fn statuses_match_the_rfc() {
        assert_eq!(ScimError::uniqueness("x").status(), 409);
        assert_eq!(ScimError::sensitive("x").status(), 403);
        assert_eq!(ScimError::payload_too_large("x").status(), 413);
        assert_eq!(ScimError::precondition_failed("x").status(), 412);
        assert_eq!(ScimError::unauthorized().status(), 401);
        assert_eq!(ScimError::unsupported_media_type().status(), 415);
        assert_eq!(ScimError::unavailable("x").status(), 503);
        let e = ScimError::method_not_allowed("DELETE", "GET");
        assert_eq!(
            (e.status, e.detail.as_str()),
            (405, "The method DELETE is not allowed here; use GET.")
        );
        let e = ScimError::too_many_members(10_001, 10_000);
        assert_eq!(e.scim_type, Some(ScimType::TooMany));
        assert!(e.detail.contains("at most 10000") && e.detail.contains("names 10001"));
        assert_eq!(
            ScimError::expired_cursor("x").scim_type,
            Some(ScimType::ExpiredCursor)
        );
        assert_eq!(ScimError::mutability("x").to_string(), "400 mutability: x");
    }
}
