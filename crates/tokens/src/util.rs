//! Small plumbing shared by the services: domain errors inside a write transaction, the blocking pool, time.

use crate::error::TokenError;
use chrono::{DateTime, NaiveDateTime, Utc};
use scimd_store::{DbConnection, Store, StoreError};

/// `Store::write` for closures that may fail with a domain error: any error rolls the transaction back, and
/// the caller gets the domain error itself, not a store error.
pub(crate) fn write<T>(
    store: &Store,
    f: impl FnOnce(&mut DbConnection) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    let mut domain_error = None;
    let result = store.write(|conn| match f(conn) {
        Ok(value) => Ok(value),
        Err(TokenError::Store(err)) => Err(err),
        Err(other) => {
            domain_error = Some(other);
            Err(StoreError::Refused("rolled back".into()))
        }
    });
    match (result, domain_error) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(domain)) => Err(domain),
        (Err(err), None) => Err(err.into()),
    }
}

/// `Store::read` for closures that may fail with a domain error.
pub(crate) fn read<T>(
    store: &Store,
    f: impl FnOnce(&mut DbConnection) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    let mut domain_error = None;
    let result = store.read(|conn| match f(conn) {
        Ok(value) => Ok(value),
        Err(TokenError::Store(err)) => Err(err),
        Err(other) => {
            domain_error = Some(other);
            Err(StoreError::Refused("read failed".into()))
        }
    });
    match (result, domain_error) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(domain)) => Err(domain),
        (Err(err), None) => Err(err.into()),
    }
}

/// Runs a blocking unit of work on tokio's blocking pool (actix workers must not wait on the database).
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, TokenError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, TokenError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TokenError::Store(StoreError::Blocking(e.to_string())))?
}

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}
