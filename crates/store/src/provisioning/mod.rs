//! Provisioning: the SCIM API's persistence: Users (the `members` table) and Groups (`groups`, `group_members`) as the SCIM
//! protocol sees them, over both backends.
//!
//! - [`filter_sql`]: the one allowlist of attribute path -> column / child table / JSON function, and the
//!   translation of a resolved filter and of `sortBy` to SQL (`crate::sql` holds the SQL fragment type);
//! - [`paging`]: index paging and RFC 9865 cursors;
//! - [`users`] and [`groups`]: list, get, create, replace, patch, delete, each a function over the connection
//!   run inside the caller's unit of work; [`lifecycle`]: the one deprovisioning path (PATCH or PUT
//!   `active=false`, DELETE) and reactivation; [`audit`]: the compact diffs written with every change; [`feed`]:
//!   the platform's event of every change, in the same transaction.
//!
//! The SCIM view of an org is its members that are SCIM-managed and not deleted: an org owner created by
//! `scimd org create` is invisible to the IdP, and a SCIM create with the same userName links it only when
//! the org allows it (`models::owner_link`; otherwise 409). SCIM never deprovisions the last active owner.
//!
//! Errors: [`ScimStoreError`] is either a protocol answer ([`ScimError`]: 404, 409, 412, 400; audited or not),
//! the safety valve's hold, or a store failure. It is a [`UnitError`]: the functions here run inside the caller's
//! `Store::write` / `read_consistent`, and a refusal rolls the transaction back while a hold commits.

pub mod audit;
pub mod feed;
pub mod filter_sql;
pub mod groups;
pub mod lifecycle;
mod member_row;
pub mod paging;
pub mod privileged;
pub mod roles;
pub mod users;

use crate::error::StoreError;
use crate::ids::OrgId;
use crate::store::UnitError;
use chrono::NaiveDateTime;
use scimd_scim::ScimError;
use scimd_scim::filter::resolve::{ResolvedAttr, ResolvedFilter};

/// A SCIM request refused by the protocol's rules, or a failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum ScimStoreError {
    #[error("{0}")]
    Refused(ScimError),
    /// A refusal whose attempt is itself audited (SCIM deprovisioning the org's last active owner): [`write`]
    /// commits the refusal event, which is all the unit wrote, and the caller answers with the SCIM error.
    #[error("{0}")]
    RefusedAudited(ScimError),
    /// The deprovisioning safety valve holds: answer 503 with `Retry-After`. Raised before anything else
    /// is written, and [`write`] commits it, because tripping the valve is itself recorded.
    #[error("deprovisioning is held by the safety valve")]
    Held { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A refusal rolls the unit of work back like a failure does; a safety-valve hold and an audited refusal are
/// committed (they record the trip or the attempt) and then reported.
impl UnitError for ScimStoreError {
    fn commits(&self) -> bool {
        matches!(
            self,
            ScimStoreError::Held { .. } | ScimStoreError::RefusedAudited(_)
        )
    }
}

impl From<ScimError> for ScimStoreError {
    fn from(e: ScimError) -> Self {
        ScimStoreError::Refused(e)
    }
}

impl From<diesel::result::Error> for ScimStoreError {
    fn from(e: diesel::result::Error) -> Self {
        ScimStoreError::Store(e.into())
    }
}

impl From<serde_json::Error> for ScimStoreError {
    fn from(e: serde_json::Error) -> Self {
        ScimStoreError::Store(e.into())
    }
}

/// Who is writing, and when: every SCIM write records this in its audit event.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub org: OrgId,
    /// The audit actor: `idp:` and the token's hint (never the token).
    pub actor: String,
    pub now: NaiveDateTime,
}

/// An `If-Match` precondition (RFC 7644 §3.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// `W/"n"`: exactly this version.
    Version(u64),
    /// A tag that is not one of ours: it cannot match.
    Foreign,
}

/// 412 unless the precondition holds for `version`.
pub fn check_if_match(if_match: Option<IfMatch>, version: i64) -> Result<(), ScimError> {
    match if_match {
        None | Some(IfMatch::Any) => Ok(()),
        Some(IfMatch::Version(v)) if i64::try_from(v).ok() == Some(version) => Ok(()),
        Some(_) => Err(ScimError::precondition_failed(format!(
            "The resource has changed: its current version is W/\"{version}\"."
        ))),
    }
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Every result the query matches.
    pub total: u64,
    pub items: Vec<T>,
    /// Where the next page starts, when there is one (for RFC 9865 `nextCursor`).
    pub next: Option<paging::Position>,
}

/// What a list or search asks for.
#[derive(Debug, Clone)]
pub struct ListSpec<'a> {
    pub filter: Option<&'a ResolvedFilter>,
    pub sort: Option<&'a ResolvedAttr>,
    pub descending: bool,
    pub paging: paging::Paging,
    /// The page size (already clamped by the protocol crate).
    pub count: u64,
}

pub(crate) use crate::models::IN_CHUNK;
