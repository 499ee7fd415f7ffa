//! `scimd migrate`: applies pending migrations; running it again is harmless.

use super::output::outln;
use crate::error::ServerError;
use scimd_store::{Store, StoreOptions};

pub(super) fn run(database_url: &str) -> Result<(), ServerError> {
    let store = Store::connect(database_url, StoreOptions::default()).map_err(ServerError::Database)?;
    let applied = store.migrate().map_err(ServerError::Database)?;
    if applied.is_empty() {
        outln!("database is up to date ({})", store.redacted_url());
    } else {
        outln!(
            "applied {} migration(s) to {}: {}",
            applied.len(),
            store.redacted_url(),
            applied.join(", ")
        );
    }
    Ok(())
}
