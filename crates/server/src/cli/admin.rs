//! `scimd admin login-link`: a single-use, 10-minute link that signs a member into the admin pages.

use super::output::print_json;
use super::token::{CLI_ACTOR, PublicUrlArgs, open};
use crate::error::ServerError;
use clap::Subcommand;
use scimd_store::OrgId;
use scimd_tokens::{SessionService, SigningKey};
use serde_json::json;

/// The admin session signing key, when configured (otherwise one is generated once and kept in the database).
pub const SESSION_KEY_ENV: &str = "SCIMD_SESSION_SIGNING_KEY";

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Print a single-use login link (valid 10 minutes) for an active member of the org.
    LoginLink {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        url: PublicUrlArgs,
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(database_url: &str, command: AdminCommand) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    match command {
        AdminCommand::LoginLink {
            org,
            email,
            url,
            json,
        } => {
            let key = signing_key(&store)?;
            let service = SessionService::new(store, clock, key, url.resolve()?);
            let link = service.issue_login_link_blocking(&OrgId::new(org), &email, CLI_ACTOR)?;
            if json {
                print_json(&json!({
                    "url": link.url,
                    "member_id": link.member_id,
                    "expires_at": link.expires_at,
                }))
            } else {
                println!("{}", link.url);
                println!("(single use, valid until {})", link.expires_at);
                Ok(())
            }
        }
    }
}

/// The key every process signs admin sessions with: configured, or generated once and stored.
pub(crate) fn signing_key(store: &scimd_store::Store) -> Result<SigningKey, ServerError> {
    let configured = std::env::var(SESSION_KEY_ENV).ok().filter(|v| !v.is_empty());
    SigningKey::resolve(configured.as_deref(), store).map_err(|e| match e {
        scimd_tokens::TokenError::InvalidInput(problem) => ServerError::Config {
            setting: SESSION_KEY_ENV,
            problem,
        },
        other => ServerError::from(other),
    })
}
