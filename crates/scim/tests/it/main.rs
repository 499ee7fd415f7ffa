//! The integration tests of `scimd-scim`, one binary:
//!
//! - `filter_rfc`: every filter example of RFC 7644 §3.4.2.2, parsed, resolved and evaluated.
//! - `patch_rfc`: every PATCH example of RFC 7644 §3.5.2, and the RFC's error cases.
//! - `dialects`: the Okta and Entra ID request bodies as their documentation gives them.
//! - `resources`: create/replace validation.
//! - `projection`: `attributes` / `excludedAttributes`.
//! - `discovery`: the discovery documents agree with the schemas.
//! - `limits`: the input limits, each a 400 naming the limit.
//! - `stored`: PATCH of a stored document (the Okta `id` echo, `remove active`).
//! - `work`: counted work grows at most linearly with the input (filters, PATCH).
//! - `props`: property tests (round trips, a reference model, no panic or stack overflow).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly on the first surprise"
)]

mod common;
mod dialects;
mod discovery;
mod filter_rfc;
mod limits;
mod patch_rfc;
mod projection;
mod props;
mod resources;
mod stored;
mod work;
