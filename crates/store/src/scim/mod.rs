//! The SCIM API's persistence: Users (the `members` table) and Groups (`groups`, `group_members`) as the SCIM
//! protocol sees them, over both backends.
//!
//! - [`filter_sql`]: the one allowlist of attribute path -> column / child table / JSON function, and the
//!   translation of a resolved filter and of `sortBy` to SQL ([`sql`] holds the SQL fragment type);
//! - [`paging`]: index paging and RFC 9865 cursors;
//! - [`users`] and [`groups`]: list, get, create, replace, patch, delete, each a function over the connection
//!   run inside the caller's unit of work; [`lifecycle`]: the one deprovisioning path (PATCH or PUT
//!   `active=false`, DELETE) and reactivation; [`audit`]: the compact diffs written with every change.
//!
//! The SCIM view of an org is its members that are SCIM-managed and not deleted: an org owner created by
//! `scimd org create` is invisible to the IdP until a SCIM create with the same userName links it.
//!
//! Errors: [`ScimStoreError`] is either a protocol answer ([`ScimError`]: 404, 409, 412, 400) or a store
//! failure. [`write`] runs a unit of work as one transaction and rolls it back on either.

pub mod audit;
pub mod filter_sql;
pub mod groups;
pub mod lifecycle;
pub mod paging;
pub mod sql;
pub mod users;

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::store::Store;
use chrono::NaiveDateTime;
use scimd_scim::ScimError;
use scimd_scim::filter::resolve::{ResolvedAttr, ResolvedFilter};
use std::sync::{Arc, Mutex};

/// A SCIM request refused by the protocol's rules, or a failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum ScimStoreError {
    #[error("{0}")]
    Refused(ScimError),
    /// The deprovisioning safety valve holds: answer 503 with `Retry-After`. Raised before anything else
    /// is written, and [`write`] commits it, because tripping the valve is itself recorded.
    #[error("deprovisioning is held by the safety valve")]
    Held { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// Runs `f` as one write transaction; a refusal rolls it back like a failure does, except a safety-valve
/// hold, which is committed (it records the trip) and then reported.
pub fn write<T>(
    store: &Store,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ScimStoreError>,
) -> Result<T, ScimStoreError> {
    let refused = Mutex::new(None);
    let result = store.write(|conn| keep_refusal(&refused, f(conn)));
    conclude(result, &refused)
}

/// `write` for a unit of work that owns what it uses: on SQLite it joins the writer thread's batches
/// (`Store::write_owned`), the SCIM API's write path.
pub fn write_owned<T, F>(store: &Store, f: F) -> Result<T, ScimStoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, ScimStoreError> + Send + 'static,
{
    let refused = Arc::new(Mutex::new(None));
    let slot = refused.clone();
    let result = store.write_owned(move |conn| keep_refusal(&slot, f(conn)));
    conclude(result, &refused)
}

/// Maps a unit of work's result onto the store's: a hold commits (`Ok(Err(retry_after))`); a refusal is kept
/// aside and fails the transaction.
fn keep_refusal<T>(
    refused: &Mutex<Option<ScimError>>,
    result: Result<T, ScimStoreError>,
) -> Result<Result<T, u64>, StoreError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(ScimStoreError::Held { retry_after_secs }) => Ok(Err(retry_after_secs)),
        Err(ScimStoreError::Refused(r)) => {
            *refused.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(r);
            Err(StoreError::Refused("the SCIM request was refused".into()))
        }
        Err(ScimStoreError::Store(s)) => Err(s),
    }
}

fn conclude<T>(
    result: Result<Result<T, u64>, StoreError>,
    refused: &Mutex<Option<ScimError>>,
) -> Result<T, ScimStoreError> {
    let refused = refused
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    match (result, refused) {
        (Ok(Ok(v)), _) => Ok(v),
        (Ok(Err(retry_after_secs)), _) => Err(ScimStoreError::Held { retry_after_secs }),
        (Err(_), Some(r)) => Err(ScimStoreError::Refused(r)),
        (Err(e), None) => Err(ScimStoreError::Store(e)),
    }
}

/// Runs `f` as one read transaction (a page and its total agree).
pub fn read<T>(
    store: &Store,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ScimStoreError>,
) -> Result<T, ScimStoreError> {
    let mut refused = None;
    let result = store.read_consistent(|conn| {
        f(conn).map_err(|e| match e {
            ScimStoreError::Store(s) => s,
            other => {
                refused = Some(other);
                StoreError::Refused("the SCIM request was refused".into())
            }
        })
    });
    match (result, refused) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(r)) => Err(r),
        (Err(e), None) => Err(ScimStoreError::Store(e)),
    }
}

/// Splits id lists for `IN (...)`: far below both backends' bind limits.
pub(crate) const IN_CHUNK: usize = 500;
