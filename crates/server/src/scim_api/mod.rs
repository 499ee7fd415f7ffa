//! The SCIM 2.0 HTTP API (RFC 7644) as Okta, Microsoft Entra ID and any conforming client call it, per org at
//! `{SCIMD_PUBLIC_URL}/scim/v2/{org}`.
//!
//! - `routes`: every route, in one place; `users/` and `groups/`: a handler per operation;
//!   `list` (lists and `.search`), `search` (`/.search` over both types), `discovery` (ServiceProviderConfig,
//!   ResourceTypes, Schemas, the base URL, `/Me` and `/Bulk` as 501);
//! - `auth`: bearer verification and the one-trip units of work after it; `error`: the ONE place a SCIM error
//!   becomes a response; `render`: records as SCIM JSON; `etag`: `meta.version` and `If-Match`;
//!   `limits`: body size and read timeout, PATCH operations and members per request, content types.
//!   Each org's request rate and requests in flight (429) are `crate::org_limiter`'s, shared with the
//!   platform API.
//!
//! The persistence (filter-to-SQL, paging, the lifecycle) is `scimd_store::provisioning`.

pub mod auth;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod groups;
pub mod limits;
pub mod list;
pub mod render;
pub mod routes;
pub mod search;
pub mod users;
