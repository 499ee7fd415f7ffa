//! `scimd admin login-link`: a single-use, 10-minute link that signs a member into the admin pages.

use super::output::print_json;
use super::token::{CLI_ACTOR, open};
use crate::config::AddressArgs;
use crate::error::ServerError;
use clap::Subcommand;
use scimd_store::OrgId;
use scimd_tokens::{KeySettings, SessionService};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Print a single-use login link (valid 10 minutes) for an active member of the org.
    LoginLink {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        url: AddressArgs,
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(database_url: &str, keys: &KeySettings, command: AdminCommand) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    match command {
        AdminCommand::LoginLink {
            org,
            email,
            url,
            json,
        } => {
            let keys = super::keys(&store, keys)?;
            let service = SessionService::new(store, clock, keys.session, url.public_url()?);
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
