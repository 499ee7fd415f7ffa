//! The demo org a newcomer gets when `serve` starts on an empty database, so there is something to look at.
//!
//! Only a newcomer's database gets one: the default file `./scimd.db`, or another SQLite file with `--demo`.
//! Never PostgreSQL, which is production: there the demo org (a placeholder SSO connection, so SCIM tokens
//! can be generated) and the owner login link printed to stdout (so, into container logs) would be a way in.
//!
//! Several processes may start together on one empty PostgreSQL: the marker row in `server_secrets` is
//! inserted in the same transaction as the org, so exactly one of them creates it.

use crate::config::{DEFAULT_DATABASE_URL, ServeConfig};
use scimd_store::models::{organizations, server_secrets};
use scimd_store::{Backend, Clock, Store, StoreError};

pub const DEMO_ORG_NAME: &str = "Demo Org";
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.example";
const MARKER: &str = "bootstrap.demo_org";

/// What `serve` prints about the demo org.
#[derive(Debug, Clone)]
pub struct DemoOrg {
    pub org: organizations::Organization,
    pub owner_email: String,
}

/// Whether `serve` may bootstrap the demo org on this database (when it is empty): not with `--no-bootstrap`,
/// never on PostgreSQL, and on SQLite for the default file or with `--demo`.
pub fn wanted(config: &ServeConfig, database_url: &str, backend: Backend) -> bool {
    let newcomer = database_url.trim() == DEFAULT_DATABASE_URL || config.demo;
    config.bootstrap && backend == Backend::Sqlite && newcomer
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

/// What `serve` prints when it did not bootstrap (PostgreSQL, or a second start), so that whoever started it
/// knows the next command: there is no other way into the admin pages than a login link.
pub fn next_step(store: &Store) -> Result<String, StoreError> {
    let (orgs, demo) = store.read(|conn| {
        let orgs = organizations::page(conn, "", 2)?;
        let demo = server_secrets::get(conn, MARKER)?.is_some();
        Ok::<_, StoreError>((orgs, demo))
    })?;
    Ok(match orgs.as_slice() {
        [] => "No organization yet. Create one with its owner, then print a login link with the id it prints:\n  \
               scimd org create --name \"Acme\" --owner-email you@example.com\n  \
               scimd admin login-link --org ORG_ID --email you@example.com"
            .to_owned(),
        [org] => {
            let email = if demo && org.name == DEMO_ORG_NAME {
                DEMO_OWNER_EMAIL
            } else {
                "OWNER_EMAIL"
            };
            format!(
                "To sign in to the admin pages, print a login link (single use, 10 minutes) with the same \
                 database settings:\n  scimd admin login-link --org {} --email {email}",
                org.id
            )
        }
        _ => "To sign in to the admin pages, find the org's id with `scimd org list`, then print a login link \
              (single use, 10 minutes) with the same database settings:\n  \
              scimd admin login-link --org ORG_ID --email OWNER_EMAIL"
            .to_owned(),
    })
}

/// Placeholder Azure AD ids of the demo org's SSO connection (not a real tenant). The admin pages know the
/// tenant ID and show the connection as a placeholder, with the step that replaces it.
pub const DEMO_AZURE_TENANT_ID: &str = scimd_admin::DEMO_PLACEHOLDER_TENANT_ID;
pub const DEMO_AZURE_CLIENT_ID: &str = "00000000-0000-4000-8000-00000000de01";

/// Gives the demo org an Azure AD SSO connection (so that SCIM provisioning can be tried at once) and returns
/// a login link for its owner.
pub fn demo_sso_and_login_link(
    store: &Store,
    clock: std::sync::Arc<dyn Clock>,
    public_url: &str,
    keys: &scimd_tokens::Keys,
    demo: &DemoOrg,
) -> Result<scimd_tokens::LoginLink, crate::error::ServerError> {
    let org = demo.org.org_id();
    let connection = scimd_signin::ConnectionService::new(store.clone(), clock.clone())
        .with_secret_key(keys.sso_secret.clone());
    connection.set_azure_blocking(
        &org,
        "bootstrap",
        &scimd_signin::connection::AzureInput {
            tenant_id: DEMO_AZURE_TENANT_ID.into(),
            client_id: DEMO_AZURE_CLIENT_ID.into(),
            client_secret: Some(scimd_signin::connection::ClientSecret::new(
                uuid::Uuid::new_v4().to_string(),
            )),
        },
    )?;
    let sessions =
        scimd_tokens::SessionService::new(store.clone(), clock, keys.session.clone(), public_url.to_owned());
    Ok(sessions.issue_login_link_blocking(&org, &demo.owner_email, "bootstrap")?)
}
