//! `scimd admin login-link`: a single-use, 10-minute link that signs a member into the admin pages.

use super::output::{outln, print_json, time};
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
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// The e-mail address (userName) of an active member of the org.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        url: AddressArgs,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
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
                    "expires_at": time(link.expires_at),
                }))
            } else {
                outln!("{}", link.url);
                outln!("(single use, valid until {})", time(link.expires_at));
                Ok(())
            }
        }
    }
}
