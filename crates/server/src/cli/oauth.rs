//! `scimd oauth-client create|list|revoke|rotate-secret` and `scimd oauth-key rotate [--retire-previous]`:
//! the platform's clients of "Sign in with scimd" (the OpenID Provider) and its ID token signing keys. A
//! client secret is printed once, at creation or rotation; only its SHA-256 is kept.

use super::output::{outln, print_json, rfc3339};
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
        /// The client's name (the application), shown in lists.
        #[arg(long)]
        name: String,
        /// A redirect URI, matched exactly (https; http only to loopback). Repeat for more.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// How its ID tokens are signed (its id_token_signed_response_alg).
        #[arg(long = "id-token-alg", default_value = "RS256", value_parser = ["RS256", "EdDSA"])]
        id_token_alg: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a client: it authenticates no more, and its access tokens stop working at once.
    Revoke {
        /// The client's id (`scimd oauth-client list`).
        #[arg(long = "client-id")]
        client_id: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Give a client a new secret (printed once); the old one stops working at once.
    RotateSecret {
        /// The client's id (`scimd oauth-client list`).
        #[arg(long = "client-id")]
        client_id: String,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// List the clients (never their secrets).
    List {
        /// Print one JSON document (stable field names, for scripts) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OAuthKeyCommand {
    /// New ID token signing keys (RS256 and EdDSA) sign from now on; the previous ones stay in the JWKS until
    /// the next rotation, so tokens they signed still verify.
    Rotate {
        /// A key is compromised: every previous key leaves the JWKS now (tokens it signed stop verifying).
        #[arg(long)]
        retire_previous: bool,
        /// Print one JSON document (stable field names, for scripts) instead of lines.
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
            id_token_alg,
            json,
        } => {
            let created = provider
                .create_client_blocking(&name, &redirect_uris, &id_token_alg)
                .map_err(failed)?;
            if json {
                return print_json(&created);
            }
            outln!("client_id:     {}", created.client_id);
            outln!("client_secret: {}", created.client_secret);
            outln!("(the secret is shown once: store it now)");
            Ok(())
        }
        OAuthClientCommand::List { json } => {
            let clients = provider.list_clients_blocking().map_err(failed)?;
            if json {
                let rows: Vec<_> = clients
                    .iter()
                    .map(|c| {
                        json!({
                            "client_id": c.id, "name": c.name, "created_at": rfc3339(c.created_at),
                            "redirect_uris": serde_json::from_str::<serde_json::Value>(&c.redirect_uris).unwrap_or_default(),
                            "revoked": c.revoked_at.is_some(),
                            "id_token_signed_response_alg": c.id_token_signed_response_alg,
                        })
                    })
                    .collect();
                return print_json(&rows);
            }
            for c in &clients {
                let revoked = if c.revoked_at.is_some() { "  (revoked)" } else { "" };
                outln!(
                    "{}  {}  {}  {}{revoked}",
                    c.id,
                    c.name,
                    c.id_token_signed_response_alg,
                    c.redirect_uris
                );
            }
            Ok(())
        }
        OAuthClientCommand::Revoke { client_id, json } => {
            provider.revoke_client_blocking(&client_id).map_err(failed)?;
            if json {
                return print_json(&json!({ "client_id": client_id, "revoked": true }));
            }
            outln!("client {client_id} revoked; its access tokens no longer work");
            Ok(())
        }
        OAuthClientCommand::RotateSecret { client_id, json } => {
            let rotated = provider
                .rotate_client_secret_blocking(&client_id)
                .map_err(failed)?;
            if json {
                return print_json(&rotated);
            }
            outln!("client_id:     {}", rotated.client_id);
            outln!("client_secret: {}", rotated.client_secret);
            outln!("(the secret is shown once: store it now; the previous one no longer works)");
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
        OAuthKeyCommand::Rotate {
            retire_previous,
            json,
        } => {
            let kids = provider.rotate_key_blocking(retire_previous).map_err(failed)?;
            if json {
                return print_json(&json!({ "kids": kids, "retired_previous": retire_previous }));
            }
            outln!("new signing keys {}", kids.join(", "));
            if retire_previous {
                outln!("every previous key is retired: it is no longer in the JWKS");
            }
            Ok(())
        }
    }
}
