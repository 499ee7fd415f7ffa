//! `scimd keys`: make a key, and move every sealed secret to the current secret key (docs/OPERATIONS.md,
//! "Keys"). `rotate` runs beside live servers: it re-seals a row at a time, each only if the row still holds
//! what it read, and it is safe to run again.

use super::output::outln;
use crate::error::ServerError;
use clap::{Args, Subcommand};
use scimd_store::models::sealed::{SealedColumn, SealedValue};
use scimd_store::{OrgId, StoreOptions};
use scimd_tokens::KeySettings;
use scimd_tokens::cipher::{self, ResealReport, SecretCipher};
use scimd_tokens::keys::{SECRET_KEY_ENV, SECRET_KEY_PREVIOUS_ENV};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random key (256 bits as 64 hex digits), for SCIMD_SECRET_KEY or SCIMD_SESSION_SIGNING_KEY.
    Generate,
    /// Re-seal every SSO client secret, webhook signing secret and OpenID Provider signing key under
    /// SCIMD_SECRET_KEY (opening them with SCIMD_SECRET_KEY_PREVIOUS, or the key kept in the database), then
    /// delete the key kept in the database.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ColumnReport {
    secrets: &'static str,
    resealed: usize,
    already_current: usize,
    changed_meanwhile: usize,
}

#[derive(Serialize)]
struct RotateReport {
    key_id: String,
    columns: Vec<ColumnReport>,
    stored_key_deleted: bool,
}

/// How the crate that owns `column` seals its values: the org and purpose of one (the cipher's associated data).
pub fn seal_context(column: SealedColumn) -> fn(&SealedValue) -> (OrgId, String) {
    match column {
        SealedColumn::SsoClientSecret => scimd_signin::connection::seal_context,
        SealedColumn::WebhookSecret => scimd_webhooks::service::seal_context,
        SealedColumn::OAuthSigningKey => scimd_signin::oauth::seal_context,
        SealedColumn::SsfAuthorizationHeader => scimd_ssf::service::seal_context,
    }
}

pub(super) fn run(database_url: &str, keys: &KeySettings, command: KeysCommand) -> Result<(), ServerError> {
    match command {
        KeysCommand::Generate => {
            let mut key = zeroize::Zeroizing::new([0u8; 32]);
            scimd_tokens::random::fill(key.as_mut()).map_err(|e| ServerError::Keys(e.to_string()))?;
            outln!("{}", *zeroize::Zeroizing::new(hex::encode(key.as_ref())));
            Ok(())
        }
        KeysCommand::Rotate(args) => rotate(database_url, keys, args),
    }
}

fn rotate(database_url: &str, settings: &KeySettings, args: RotateArgs) -> Result<(), ServerError> {
    let store = super::open_store(database_url, StoreOptions::default())?;
    let keys = super::keys(&store, settings)?;
    let Some(secret_key) = keys.sso_secret else {
        return Err(ServerError::Keys(format!(
            "keys rotate re-seals under the key {SECRET_KEY_ENV} names: set it to the new key (scimd keys \
             generate makes one), and {SECRET_KEY_PREVIOUS_ENV} to the old one if it was given from outside \
             the database"
        )));
    };
    let now = chrono::Utc::now().naive_utc();
    let cipher = store.read(|conn| SecretCipher::load(Some(&secret_key), conn, now))?;
    let mut columns = Vec::new();
    for column in SealedColumn::ALL {
        let ResealReport {
            resealed,
            current,
            changed_meanwhile,
        } = cipher::reseal_column(&store, &cipher, column, seal_context(column))?;
        columns.push(ColumnReport {
            secrets: column.label(),
            resealed,
            already_current: current,
            changed_meanwhile,
        });
    }
    // Everything the stored key sealed is now under the configured key: the database no longer holds a key
    // that opens anything.
    let stored_key_deleted = store.write(cipher::forget_stored_key)?;
    let report = RotateReport {
        key_id: cipher.current_key_id().to_string(),
        columns,
        stored_key_deleted,
    };
    if args.json {
        return super::output::print_json(&report);
    }
    outln!("sealed secrets are under key {}", report.key_id);
    for c in &report.columns {
        outln!(
            "  {}: {} re-sealed, {} already under it, {} changed meanwhile (left as written)",
            c.secrets,
            c.resealed,
            c.already_current,
            c.changed_meanwhile
        );
    }
    if report.stored_key_deleted {
        outln!("the key kept in the database is deleted");
    }
    outln!("{SECRET_KEY_PREVIOUS_ENV} can now be removed from every process.");
    Ok(())
}
