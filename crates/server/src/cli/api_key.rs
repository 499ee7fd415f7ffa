//! `scimd api-key create|list|revoke`: the platform API's keys. A key is printed once, at creation; only its
//! SHA-256 and a hint are kept.

use super::output::{outln, print_json};
use super::token::open;
use crate::error::ServerError;
use clap::Subcommand;
use scimd_tokens::ApiKeyService;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for the platform API (`/api/v1/events`); with --org it sees that org only.
    Create {
        /// A name to recognise the key by (the application that uses it).
        #[arg(long)]
        name: String,
        /// Bind the key to this org (its id: `scimd org list`); without it the key reads every org.
        #[arg(long)]
        org: Option<String>,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// List the keys (never the keys themselves: their hints).
    List {
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: its next request is refused.
    Revoke {
        /// The key's id (`scimd api-key list`).
        #[arg(long)]
        id: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(database_url: &str, command: ApiKeyCommand) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    let keys = ApiKeyService::new(store.clone(), clock);
    match command {
        ApiKeyCommand::Create { name, org, json } => {
            let org = org.map(|o| super::existing_org(&store, &o)).transpose()?;
            let created = keys.create_blocking(&name, org.as_ref())?;
            if json {
                return print_json(&created);
            }
            outln!("{}", created.key);
            outln!("(id {}; shown once: store it now)", created.id);
            Ok(())
        }
        ApiKeyCommand::List { json } => {
            let all = keys.list_blocking()?;
            if json {
                return print_json(&all);
            }
            for k in &all {
                let status = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let org = k.org_id.as_deref().unwrap_or("(every org)");
                outln!("{}  {}  {}  {}  {}", k.id, k.hint, status, org, k.name);
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { id, json } => {
            let revoked = keys.revoke_blocking(&id)?;
            if !revoked {
                return Err(ServerError::NotFound(format!(
                    "--id {id}: no active API key with this id"
                )));
            }
            if json {
                return print_json(&json!({ "id": id, "revoked": true }));
            }
            outln!("revoked {id}");
            Ok(())
        }
    }
}
