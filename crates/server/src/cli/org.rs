//! `scimd org create` and `scimd org list`.

use super::output::{print_json, rfc3339};
use crate::error::ServerError;
use clap::Subcommand;
use scimd_store::models::organizations;
use scimd_store::{Clock, StoreOptions, SystemClock};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization, optionally with its owner (a member, not managed by SCIM).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List every organization.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Serialize)]
struct OrgOutput {
    id: String,
    name: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_email: Option<String>,
}

pub(super) fn run(database_url: &str, command: OrgCommand) -> Result<(), ServerError> {
    let store = super::open_store(
        database_url,
        StoreOptions {
            max_connections: 2,
            ..StoreOptions::default()
        },
    )?;
    match command {
        OrgCommand::Create {
            name,
            owner_email,
            json,
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(ServerError::Invalid("--name must be 1 to 200 characters".into()));
            }
            if let Some(email) = &owner_email
                && !looks_like_email(email)
            {
                return Err(ServerError::Invalid(format!(
                    "--owner-email `{email}` is not an e-mail address"
                )));
            }
            let now = SystemClock.now_naive();
            let (org, owner) = store
                .write(|conn| organizations::create_with_owner(conn, &name, owner_email.as_deref(), now))?;
            let out = OrgOutput {
                id: org.id,
                name: org.name,
                created_at: rfc3339(org.created_at),
                owner_email: owner.map(|m| m.user_name),
            };
            if json {
                print_json(&out)
            } else {
                println!("created org {} ({})", out.id, out.name);
                Ok(())
            }
        }
        OrgCommand::List { json } => {
            let orgs: Vec<OrgOutput> = store
                .read(organizations::list)?
                .into_iter()
                .map(|o| OrgOutput {
                    id: o.id,
                    name: o.name,
                    created_at: rfc3339(o.created_at),
                    owner_email: None,
                })
                .collect();
            if json {
                print_json(&orgs)
            } else {
                for org in &orgs {
                    println!("{}  {}  {}", org.id, org.created_at, org.name);
                }
                Ok(())
            }
        }
    }
}

/// A light check: the real proof of an address is mail reaching it, which is not ours to do.
pub(crate) fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}
