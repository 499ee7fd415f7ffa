//! `scimd sso set-saml|set-azure|show|remove`: the org's SSO connection. The Azure AD client secret is read
//! from `SCIMD_AZURE_CLIENT_SECRET` or standard input, never from a flag (flags end up in shell history and
//! process lists).

use super::output::{outln, print_json};
use super::token::{CLI_ACTOR, open};
use crate::error::ServerError;
use clap::Subcommand;
use scimd_signin::connection::{AzureInput, ClientSecret, ConnectionService, ConnectionSummary, SamlInput};
use scimd_store::OrgId;
use scimd_tokens::KeySettings;
use serde_json::json;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

pub const CLIENT_SECRET_ENV: &str = "SCIMD_AZURE_CLIENT_SECRET";

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Connect the org to a SAML IdP.
    SetSaml {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// The IdP's entity ID (issuer).
        #[arg(long)]
        entity_id: String,
        /// The IdP's single sign-on URL (https; http only to a loopback address).
        #[arg(long)]
        sso_url: String,
        /// A file holding the IdP's signing certificate (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// A file holding the IdP's next signing certificate (PEM), pinned beside the current one for a
        /// rollover.
        #[arg(long)]
        next_cert: Option<PathBuf>,
        /// Accept IdP-initiated (unsolicited) sign-ins. Off by default: they widen login CSRF.
        #[arg(long)]
        allow_unsolicited: bool,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Connect the org to Azure AD (Microsoft Entra ID). The client secret comes from
    /// SCIMD_AZURE_CLIENT_SECRET or standard input.
    SetAzure {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// The Entra ID tenant (directory) id.
        #[arg(long)]
        tenant_id: String,
        /// The Entra ID app registration's application (client) id.
        #[arg(long)]
        client_id: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show the org's SSO connection (never its secret).
    Show {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Remove the org's SSO connection; this also revokes the org's SCIM tokens.
    Remove {
        /// The org's id, not its name (`scimd org list` prints each org's id and name).
        #[arg(long)]
        org: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(database_url: &str, keys: &KeySettings, command: SsoCommand) -> Result<(), ServerError> {
    let (store, clock) = open(database_url)?;
    let sso_secret = super::keys(&store, keys)?.sso_secret;
    let service = ConnectionService::new(store, clock).with_secret_key(sso_secret);
    match command {
        SsoCommand::SetSaml {
            org,
            entity_id,
            sso_url,
            cert,
            next_cert,
            allow_unsolicited,
            json,
        } => {
            let read = |flag: &str, path: &PathBuf| {
                std::fs::read_to_string(path)
                    .map_err(|e| ServerError::Invalid(format!("--{flag} {}: {e}", path.display())))
            };
            let input = SamlInput {
                entity_id,
                sso_url,
                certificate_pem: read("cert", &cert)?,
                next_certificate_pem: next_cert
                    .map(|p| read("next-cert", &p))
                    .transpose()?
                    .unwrap_or_default(),
                allow_unsolicited,
            };
            let summary = service.set_saml_blocking(&OrgId::new(org), CLI_ACTOR, &input)?;
            show(Some(&summary), json)
        }
        SsoCommand::SetAzure {
            org,
            tenant_id,
            client_id,
            json,
        } => {
            let input = AzureInput {
                tenant_id,
                client_id,
                client_secret: Some(client_secret()?),
            };
            let summary = service.set_azure_blocking(&OrgId::new(org), CLI_ACTOR, &input)?;
            show(Some(&summary), json)
        }
        SsoCommand::Show { org, json } => {
            let summary = service.get_blocking(&OrgId::new(org))?;
            show(summary.as_ref(), json)
        }
        SsoCommand::Remove { org, json } => {
            let removed = service.remove_blocking(&OrgId::new(org), CLI_ACTOR)?;
            if json {
                print_json(&json!({ "removed": removed }))
            } else {
                outln!(
                    "{}",
                    if removed {
                        "SSO connection removed"
                    } else {
                        "no SSO connection"
                    }
                );
                Ok(())
            }
        }
    }
}

fn show(summary: Option<&ConnectionSummary>, json: bool) -> Result<(), ServerError> {
    if json {
        return print_json(&summary);
    }
    match summary {
        None => outln!("no SSO connection"),
        Some(s) => outln!("{}", serde_json::to_string_pretty(&s.settings)?),
    }
    Ok(())
}

fn client_secret() -> Result<ClientSecret, ServerError> {
    if let Ok(secret) = std::env::var(CLIENT_SECRET_ENV)
        && !secret.is_empty()
    {
        return Ok(ClientSecret::new(secret));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Azure AD client secret (then Enter and Ctrl-D):");
    }
    let mut secret = String::new();
    stdin.lock().read_to_string(&mut secret)?;
    let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(ServerError::Invalid(format!(
            "the Azure AD client secret is read from {CLIENT_SECRET_ENV} or standard input, and both are empty"
        )));
    }
    Ok(ClientSecret::new(secret))
}
