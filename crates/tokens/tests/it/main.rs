//! The token crate's integration tests. Database tests run on a fresh SQLite file and, with
//! `SCIMD_TEST_POSTGRES_URL` set, on a fresh PostgreSQL schema (`scimd_store::backend_tests!`). Two `Store`s on
//! one database stand for two scimd processes. Time is a `FixedClock`: nothing here sleeps.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]
mod fixtures;
mod format;
mod keys;
mod lifecycle;
mod secrets;
mod sessions;
mod verify;
