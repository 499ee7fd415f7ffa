//! The demo org a newcomer gets when `serve` starts on an empty database, so there is something to look at.
//!
//! Several processes may start together on one empty PostgreSQL: the marker row in `server_secrets` is
//! inserted in the same transaction as the org, so exactly one of them creates it.

use scimd_store::models::{organizations, server_secrets};
use scimd_store::{Clock, Store, StoreError};

pub const DEMO_ORG_NAME: &str = "Demo Org";
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.example";
const MARKER: &str = "bootstrap.demo_org";

/// What `serve` prints about the demo org.
#[derive(Debug, Clone)]
pub struct DemoOrg {
    pub org: organizations::Organization,
    pub owner_email: String,
}

/// Creates the demo org and its owner when the database has no org at all; `None` otherwise.
pub fn demo_org_if_empty(store: &Store, clock: &dyn Clock) -> Result<Option<DemoOrg>, StoreError> {
    let now = clock.now_naive();
    let created = store.write(|conn| {
        if organizations::count(conn)? > 0 || server_secrets::get(conn, MARKER)?.is_some() {
            return Ok(None);
        }
        let (org, _owner) =
            organizations::create_with_owner(conn, DEMO_ORG_NAME, Some(DEMO_OWNER_EMAIL), now)?;
        match server_secrets::get_or_insert(conn, MARKER, org.id.as_bytes(), now)? {
            winner if winner == org.id.as_bytes() => Ok(Some(org)),
            // Another process bootstrapped first: undo ours by failing the transaction.
            _ => Err(StoreError::Conflict(MARKER.into())),
        }
    });
    match created {
        Ok(Some(org)) => Ok(Some(DemoOrg {
            org,
            owner_email: DEMO_OWNER_EMAIL.into(),
        })),
        Ok(None) | Err(StoreError::Conflict(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
