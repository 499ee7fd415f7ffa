//! `scimd org owner-link`: show or change whether SCIM may link the org's owner (`models::owner_link`).

use super::output::{outln, print_json};
use crate::error::ServerError;
use clap::Args;
use scimd_store::models::{organizations, owner_link};
use scimd_store::{Clock, OrgId, Store, StoreError, SystemClock};
use serde::Serialize;

/// Show or change whether a SCIM create with the owner's userName may link (take over) the org's owner.
#[derive(Debug, Args)]
pub struct OwnerLinkArgs {
    /// The org's id, not its name (`scimd org list` prints each org's id and name).
    #[arg(long)]
    org: String,
    /// Allow (on) or forbid (off, the default) the link.
    #[arg(long, value_parser = ["on", "off"])]
    set: Option<String>,
    /// Print one JSON document (stable field names, for scripts) instead of lines.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct OwnerLinkOutput {
    allowed: bool,
}

pub(super) fn run(store: &Store, args: &OwnerLinkArgs) -> Result<(), ServerError> {
    let org = OrgId::new(args.org.as_str());
    let now = SystemClock.now_naive();
    let allowed = store.write(|conn| {
        organizations::get(conn, &org)?;
        if let Some(set) = args.set.as_deref() {
            owner_link::set_allowed(conn, &org, "cli", set == "on", now)?;
        }
        owner_link::allowed(conn, &org)
    });
    let allowed = match allowed {
        Err(StoreError::NotFound) => return Err(ServerError::no_such_org(org.as_str())),
        other => other?,
    };
    if args.json {
        return print_json(&OwnerLinkOutput { allowed });
    }
    outln!(
        "SCIM {} link the org's owner",
        if allowed { "may" } else { "may not" }
    );
    Ok(())
}

/// Show or change whether SCIM may change the userName or externalId of an owner or admin (the keys SSO finds
/// a member by; review 3, L-10).
#[derive(Debug, Args)]
pub struct IdentityChangesArgs {
    /// The org's id, not its name (`scimd org list` prints each org's id and name).
    #[arg(long)]
    org: String,
    /// Allow (on) or forbid (off, the default) the changes.
    #[arg(long, value_parser = ["on", "off"])]
    set: Option<String>,
    /// Print one JSON document (stable field names, for scripts) instead of lines.
    #[arg(long)]
    json: bool,
}

pub(super) fn run_identity_changes(store: &Store, args: &IdentityChangesArgs) -> Result<(), ServerError> {
    let org = OrgId::new(args.org.as_str());
    let now = SystemClock.now_naive();
    let allowed = store.write(|conn| {
        organizations::get(conn, &org)?;
        if let Some(set) = args.set.as_deref() {
            owner_link::set_privileged_identity_changes_allowed(conn, &org, "cli", set == "on", now)?;
        }
        owner_link::privileged_identity_changes_allowed(conn, &org)
    });
    let allowed = match allowed {
        Err(StoreError::NotFound) => return Err(ServerError::no_such_org(org.as_str())),
        other => other?,
    };
    if args.json {
        return print_json(&OwnerLinkOutput { allowed });
    }
    outln!(
        "SCIM {} change the userName or externalId of an owner or admin",
        if allowed { "may" } else { "may not" }
    );
    Ok(())
}
