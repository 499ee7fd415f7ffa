//! `scimd token generate|list|revoke`: an org's SCIM bearer tokens. `generate` on an org that already has a
//! token regenerates it, keeping the old one for `--grace`.

use super::output::{outln, print_json, time};
use crate::config::AddressArgs;
use crate::error::ServerError;
use clap::Subcommand;
use scimd_store::{Clock, OrgId, Store, StoreOptions, SystemClock};
use scimd_tokens::{Expiry, Grace, TokenService};
use serde_json::json;
use std::sync::Arc;

/// Who the audit trail names for changes made from the command line.
pub(super) const CLI_ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Generate the org's SCIM token (or a new one, keeping the old for --grace). Shown once.
    Generate {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// How long the previous token keeps working: none, 1h or 24h.
        #[arg(long, default_value = "none")]
        grace: Grace,
        /// When the new token expires: never, 90d or 1y.
        #[arg(long, default_value = "never")]
        expires: Expiry,
        #[command(flatten)]
        url: AddressArgs,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// List the org's tokens (hints only, never a token).
    List {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Revoke every token of the org at once (deletes its SCIM configuration).
    Revoke {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn open(database_url: &str) -> Result<(Store, Arc<dyn Clock>), ServerError> {
    let store = super::open_store(
        database_url,
        StoreOptions {
            max_connections: 2,
            ..StoreOptions::default()
        },
    )?;
    Ok((store, Arc::new(SystemClock)))
}

pub(super) fn run(database_url: &str, command: TokenCommand) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    match command {
        TokenCommand::Generate {
            org,
            grace,
            expires,
            url,
            json,
        } => {
            let service = TokenService::new(store, clock, url.public_url()?);
            let org = OrgId::new(org);
            let configured = service.scim_status_blocking(&org)?.is_some();
            let generated = if configured {
                service.regenerate_blocking(&org, CLI_ACTOR, grace, expires)
            } else {
                service.generate_blocking(&org, CLI_ACTOR, expires)
            }?;
            let hint = generated.hint.to_string();
            let token = generated.token.expose_once();
            if json {
                print_json(&json!({
                    "endpoint_url": generated.endpoint_url,
                    "token": token,
                    "token_id": generated.token_id,
                    "hint": hint,
                    "created_at": time(generated.created_at),
                    "expires_at": generated.expires_at.map(time),
                    "previous_valid_until": generated.previous_valid_until.map(time),
                }))
            } else {
                outln!("SCIM endpoint URL: {}", generated.endpoint_url);
                outln!("Bearer token:      {token}");
                outln!("The token is shown once; scimd keeps only its hash ({hint}).");
                if let Some(until) = generated.previous_valid_until {
                    outln!("The previous token works until {}.", time(until));
                }
                Ok(())
            }
        }
        TokenCommand::List { org, json } => {
            let org = super::existing_org(&store, &org)?;
            let service = TokenService::new(store, clock, String::new());
            let tokens = service.list_blocking(&org)?;
            if json {
                print_json(&tokens)
            } else {
                for t in &tokens {
                    let status = serde_json::to_value(t.status)?;
                    let last_used = t
                        .last_used_at
                        .map_or("never used".to_owned(), |at| format!("last used {}", time(at)));
                    outln!(
                        "{}  {}  {}  created {}  {last_used}",
                        t.token_id,
                        t.hint,
                        status.as_str().unwrap_or(""),
                        time(t.created_at)
                    );
                }
                Ok(())
            }
        }
        TokenCommand::Revoke { org, json } => {
            let org = super::existing_org(&store, &org)?;
            let service = TokenService::new(store, clock, String::new());
            let revoked = service.revoke_all_blocking(&org, CLI_ACTOR)?;
            if json {
                print_json(&json!({ "revoked": revoked }))
            } else {
                outln!("revoked {revoked} token(s)");
                Ok(())
            }
        }
    }
}
