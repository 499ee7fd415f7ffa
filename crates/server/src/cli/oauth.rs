//! `scimd oauth-client create|list` and `scimd oauth-key rotate`: the platform's clients of "Sign in with
//! scimd" (the OpenID Provider) and its ID token signing key. A client secret is printed once, at creation;
//! only its SHA-256 is kept.

use super::output::print_json;
use super::token::open;
use crate::error::ServerError;
use clap::Subcommand;
use scimd_signin::oauth::{OAuthProvider, ProviderError};
use scimd_tokens::KeySettings;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum OAuthClientCommand {
    /// Register a client: prints its client_id and client_secret (the secret once).
    Create {
        #[arg(long)]
        name: String,
        /// A redirect URI, matched exactly (https; http only to loopback). Repeat for more.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the clients (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OAuthKeyCommand {
    /// A new ID token signing key signs from now on; the previous one stays in the JWKS until the next
    /// rotation, so tokens it signed still verify.
    Rotate {
        #[arg(long)]
        json: bool,
    },
}

fn provider(database_url: &str, keys: &KeySettings) -> Result<OAuthProvider, ServerError> {
    let (store, clock) = open(database_url)?;
    let secret_key = super::keys(&store, keys)?.sso_secret;
    // The issuer is only in tokens, which the CLI does not mint.
    Ok(OAuthProvider::new(store, clock, "http://unused", secret_key))
}

fn failed(err: ProviderError) -> ServerError {
    match err {
        ProviderError::InvalidRequest(m) => ServerError::Invalid(m),
        ProviderError::Store(e) => e.into(),
        ProviderError::Token(e) => e.into(),
        other => ServerError::Invalid(other.to_string()),
    }
}

pub(super) fn run_client(
    database_url: &str,
    keys: &KeySettings,
    command: OAuthClientCommand,
) -> Result<(), ServerError> {
    let provider = provider(database_url, keys)?;
    match command {
        OAuthClientCommand::Create {
            name,
            redirect_uris,
            json,
        } => {
            let created = provider
                .create_client_blocking(&name, &redirect_uris)
                .map_err(failed)?;
            if json {
                return print_json(&created);
            }
            println!("client_id:     {}", created.client_id);
            println!("client_secret: {}", created.client_secret);
            println!("(the secret is shown once: store it now)");
            Ok(())
        }
        OAuthClientCommand::List { json } => {
            let clients = provider.list_clients_blocking().map_err(failed)?;
            if json {
                let rows: Vec<_> = clients
                    .iter()
                    .map(|c| {
                        json!({
                            "client_id": c.id, "name": c.name, "created_at": c.created_at.and_utc(),
                            "redirect_uris": serde_json::from_str::<serde_json::Value>(&c.redirect_uris).unwrap_or_default(),
                            "revoked": c.revoked_at.is_some(),
                        })
                    })
                    .collect();
                return print_json(&rows);
            }
            for c in &clients {
                println!("{}  {}  {}", c.id, c.name, c.redirect_uris);
            }
            Ok(())
        }
    }
}

pub(super) fn run_key(
    database_url: &str,
    keys: &KeySettings,
    command: OAuthKeyCommand,
) -> Result<(), ServerError> {
    let provider = provider(database_url, keys)?;
    match command {
        OAuthKeyCommand::Rotate { json } => {
            let kid = provider.rotate_key_blocking().map_err(failed)?;
            if json {
                return print_json(&json!({ "kid": kid }));
            }
            println!("new signing key {kid}");
            Ok(())
        }
    }
}
