//! `meta.version` as a weak ETag (RFC 7644 §3.14): the `ETag` header of single-resource responses, and the
//! `If-Match` precondition of PUT, PATCH and DELETE (412 on mismatch, checked in the write's transaction).

use actix_web::HttpRequest;
use actix_web::http::header;
use scimd_scim::resources::meta::{etag, parse_etag};
use scimd_store::provisioning::IfMatch;

/// The request's `If-Match`, if any. A list of tags matches when any of them does; since one resource has
/// one version, the first tag of ours decides.
pub fn if_match(req: &HttpRequest) -> Option<IfMatch> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)?
        .to_str()
        .ok()?
        .trim()
        .to_owned();
    if raw == "*" {
        return Some(IfMatch::Any);
    }
    Some(
        raw.split(',')
            .find_map(parse_etag)
            .map_or(IfMatch::Foreign, IfMatch::Version),
    )
}

/// The `ETag` header value for a stored version.
pub fn header_value(version: i64) -> String {
    etag(u64::try_from(version).unwrap_or(0))
}
