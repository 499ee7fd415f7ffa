//! `scimd token generate|list|revoke`: an org's SCIM bearer tokens. `generate` on an org that already has a
//! token regenerates it, keeping the old one for `--grace`.

use super::output::print_json;
use crate::error::ServerError;
use clap::{Args, Subcommand};
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
        #[arg(long)]
        org: String,
        /// How long the previous token keeps working: none, 1h or 24h.
        #[arg(long, default_value = "none")]
        grace: Grace,
        /// When the new token expires: never, 90d or 1y.
        #[arg(long, default_value = "never")]
        expires: Expiry,
        #[command(flatten)]
        url: PublicUrlArgs,
        #[arg(long)]
        json: bool,
    },
    /// List the org's tokens (hints only, never a token).
    List {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke every token of the org at once (deletes its SCIM configuration).
    Revoke {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
}

/// Where IdPs and browsers reach scimd, for endpoint URLs and login links (as `serve` computes it).
#[derive(Debug, Clone, Args)]
pub struct PublicUrlArgs {
    /// The URL IdPs and browsers reach the server at. Defaults to http://BIND.
    #[arg(long, env = "SCIMD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The address `serve` listens on (only used to derive the default public URL).
    #[arg(long, env = "SCIMD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
}

impl PublicUrlArgs {
    pub(super) fn resolve(&self) -> Result<String, ServerError> {
        let serve = crate::config::ServeArgs {
            bind: self.bind.clone(),
            public_url: self.public_url.clone(),
            workers: None,
            db_max_connections: 1,
            org_rate: crate::scim_api::org_limiter::DEFAULT_RATE,
            org_burst: crate::scim_api::org_limiter::DEFAULT_BURST,
            org_in_flight: crate::scim_api::org_limiter::DEFAULT_IN_FLIGHT,
            statement_timeout_ms: 5_000,
            db_checkout_timeout_ms: 2_000,
            db_connect_timeout_secs: 2,
            event_retention_days: 90,
            no_bootstrap: true,
            demo: false,
            trust_forwarded_for: false,
            entra_authority: crate::config::DEFAULT_ENTRA_AUTHORITY.to_owned(),
        };
        Ok(serve.validate()?.public_url)
    }
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
            let service = TokenService::new(store, clock, url.resolve()?);
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
                    "created_at": generated.created_at,
                    "expires_at": generated.expires_at,
                    "previous_valid_until": generated.previous_valid_until,
                }))
            } else {
                println!("SCIM endpoint URL: {}", generated.endpoint_url);
                println!("Bearer token:      {token}");
                println!("The token is shown once; scimd keeps only its hash ({hint}).");
                if let Some(until) = generated.previous_valid_until {
                    println!("The previous token works until {until}.");
                }
                Ok(())
            }
        }
        TokenCommand::List { org, json } => {
            let service = TokenService::new(store, clock, String::new());
            let tokens = service.list_blocking(&OrgId::new(org))?;
            if json {
                print_json(&tokens)
            } else {
                for t in &tokens {
                    let status = serde_json::to_value(t.status)?;
                    let last_used = t
                        .last_used_at
                        .map_or("never used".to_owned(), |at| format!("last used {at}"));
                    println!(
                        "{}  {}  {}  created {}  {last_used}",
                        t.token_id,
                        t.hint,
                        status.as_str().unwrap_or(""),
                        t.created_at
                    );
                }
                Ok(())
            }
        }
        TokenCommand::Revoke { org, json } => {
            let service = TokenService::new(store, clock, String::new());
            let revoked = service.revoke_all_blocking(&OrgId::new(org), CLI_ACTOR)?;
            if json {
                print_json(&json!({ "revoked": revoked }))
            } else {
                println!("revoked {revoked} token(s)");
                Ok(())
            }
        }
    }
}
