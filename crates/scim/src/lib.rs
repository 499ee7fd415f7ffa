//! scimd's SCIM 2.0 protocol crate (RFC 7643, RFC 7644). Pure: no I/O, no HTTP framework, no database.
//!
//! - [`dialect`]: the IdP behaviours accepted outside the letter of RFC 7644 (Okta, Entra ID).
//! - [`error`]: [`ScimError`] and [`ScimType`], rendered as RFC 7644 §3.12 bodies.
//! - [`schema`]: attribute definitions as data; the User, Enterprise User and Group schemas.
//! - [`filter`]: the filter grammar, its AST, resolution against a schema, in-memory evaluation.
//! - [`path`]: PATCH attribute paths.
//! - [`patch`]: the PATCH engine with the Okta and Entra ID dialects and the group members delta.
//! - [`projection`]: `attributes` / `excludedAttributes` honouring `returned`.
//! - [`resources`]: validation of create/replace bodies, accessors the store needs, `meta`.
//! - [`list`]: list and search query parameters, `ListResponse`.
//! - [`limits`]: every input limit (values per attribute, string and document sizes, projection lists).
//! - [`work`]: a step counter, so tests can show that work grows linearly with input.
//! - [`discovery`]: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.

pub mod dialect;
pub mod discovery;
pub(crate) mod distinct;
pub mod error;
pub mod filter;
pub(crate) mod json;
pub mod limits;
pub mod list;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resources;
pub mod schema;
pub(crate) mod values;
pub mod work;

pub use dialect::Dialect;
pub use error::{ScimError, ScimType};
pub use filter::{AttrPath, CompValue, CompareOp, Filter, ResolvedAttr, ResolvedFilter};
pub use patch::{MembersDelta, PatchOutcome, PatchRequest};
pub use schema::{GROUP, ResourceKind, ResourceSchema, USER};
