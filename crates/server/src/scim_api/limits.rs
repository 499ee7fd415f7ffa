//! Request limits, each answered with a SCIM error: the body size (413), PATCH operations and member ids
//! per request (400 `tooMany`), and the filter limits of the protocol crate (`MAX_FILTER_LEN`, depth, nodes:
//! 400 `invalidFilter`). Also the content types accepted, and URLs without NUL ([`holds_nul`]).

use crate::scim_api::error::ScimApiError;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use scimd_scim::resources::{Validated, validate};
use scimd_scim::schema::GROUP;
use scimd_scim::{PatchRequest, ScimError};
use std::time::Duration;

/// The largest request body accepted (2 MiB: 10,000 members in one PATCH take about 600 KiB).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// How long a client may take to send its body once the request is admitted (a slow sender holds one of its
/// org's in-flight slots meanwhile, not a database connection).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The most operations in one PATCH.
pub const MAX_PATCH_OPERATIONS: usize = 1_000;
/// The most member ids one PATCH (or a Group's POST/PUT) may add or remove.
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;

/// Whether the URL's path or query holds a NUL character (`%00`): no org, id, resource name or filter value
/// holds one, and PostgreSQL refuses NUL in text, so such a request is 400 before any database work (the SCIM
/// API and the platform API) instead of a 500 from the database. A literal NUL never reaches here (the HTTP
/// parser refuses it).
pub fn holds_nul(uri: &actix_web::http::Uri) -> bool {
    uri.path_and_query().is_some_and(|pq| pq.as_str().contains("%00"))
}

/// Reads a body sent as `application/scim+json` or `application/json` (or without a content type), at most
/// [`MAX_BODY_BYTES`] within [`BODY_READ_TIMEOUT`] (else 400 `invalidSyntax`). Called only after the caller
/// is verified and admitted (`auth`), so that a bad token is 401 whatever the body and nobody without a
/// token makes the server buffer one.
pub async fn body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, ScimApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !(mime == "application/json" || mime == "application/scim+json" || mime.is_empty()) {
            return Err(ScimError::unsupported_media_type().into());
        }
    }
    let too_large = || {
        ScimError::payload_too_large(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes (maxPayloadSize)."
        ))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large().into());
    }
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, payload.to_bytes_limited(MAX_BODY_BYTES));
    let body = match read.await {
        Ok(Ok(Ok(body))) => body,
        Ok(Ok(Err(e))) => {
            return Err(
                ScimError::invalid_syntax(format!("The request body could not be read: {e}.")).into(),
            );
        }
        Ok(Err(_)) => return Err(too_large().into()),
        Err(_) => {
            return Err(ScimError::invalid_syntax(format!(
                "The request body was not received within {} seconds.",
                BODY_READ_TIMEOUT.as_secs()
            ))
            .into());
        }
    };
    Ok(body)
}

/// The body as JSON; malformed JSON is 400 `invalidSyntax`.
pub fn parse_json(body: &[u8]) -> Result<serde_json::Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|e| ScimError::invalid_syntax(format!("The request body is not valid JSON: {e}.")))
}

/// 400 `tooMany` when a PATCH has more than [`MAX_PATCH_OPERATIONS`] operations.
fn check_operations(n: usize) -> Result<(), ScimError> {
    if n > MAX_PATCH_OPERATIONS {
        return Err(ScimError::too_many(format!(
            "One PATCH may carry at most {MAX_PATCH_OPERATIONS} operations; this one has {n}."
        )));
    }
    Ok(())
}

/// 400 `tooMany` when a Group body names more than [`MAX_MEMBERS_PER_REQUEST`] members.
fn check_members(n: usize) -> Result<(), ScimError> {
    if n > MAX_MEMBERS_PER_REQUEST {
        return Err(ScimError::too_many_members(n, MAX_MEMBERS_PER_REQUEST));
    }
    Ok(())
}

/// A PATCH body: parsed, and within [`MAX_PATCH_OPERATIONS`].
pub fn patch_request(body: &[u8]) -> Result<PatchRequest, ScimError> {
    let patch = PatchRequest::from_slice(body)?;
    check_operations(patch.operations.len())?;
    Ok(patch)
}

/// A Group body (POST or PUT): validated, with its member ids taken out and within
/// [`MAX_MEMBERS_PER_REQUEST`].
pub fn group_body(body: &[u8]) -> Result<(Validated, Vec<String>), ScimError> {
    let mut v = validate(&parse_json(body)?, &GROUP)?;
    let members = v.members.take().unwrap_or_default();
    check_members(members.len())?;
    Ok((v, members))
}
