//! The JSON API under `/api/v1/orgs/{org}`, for an owner's or admin's session: `audit` (the audit trail) and
//! `activity` (provisioning activity). Both page newest first by an opaque `cursor` (pass back the previous
//! response's `next_cursor`) with a `limit` from 1 to 200 (default 50); errors are `ApiError`s.

pub mod activity;
pub mod audit;

use crate::error::{AdminError, ApiError};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

fn bad(message: &str) -> ApiError {
    ApiError(AdminError::BadRequest(message.to_owned()))
}

/// The `limit` parameter.
fn limit(raw: Option<&str>) -> Result<i64, ApiError> {
    match raw {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| bad("limit must be a number from 1 to 200")),
    }
}

/// The `cursor` parameter: the `seq` of the last row of the previous page.
fn cursor(raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|s| *s > 0)
            .map(Some)
            .ok_or_else(|| bad("cursor is not one this API returned")),
    }
}
