//! `scimd admin login-link`: a single-use, 10-minute link that signs a member into the admin pages.

use super::output::print_json;
use super::token::{CLI_ACTOR, PublicUrlArgs, open};
use crate::error::ServerError;
use clap::Subcommand;
use scimd_store::OrgId;
use scimd_tokens::{KeySettings, Keys, SessionService};
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
            let keys = keys(&store)?;
            let service = SessionService::new(store, clock, keys.session, url.resolve()?);
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

/// The keys every process uses (`scimd_tokens::keys`): from `SCIMD_SESSION_SIGNING_KEY[_FILE]` and
/// `SCIMD_SECRET_KEY[_FILE]`, else the ones kept in the database.
pub(crate) fn keys(store: &scimd_store::Store) -> Result<Keys, ServerError> {
    KeySettings::from_env().resolve(store).map_err(|e| match e {
        scimd_tokens::TokenError::InvalidInput(problem) => ServerError::Keys(problem),
        other => ServerError::from(other),
    })
}
