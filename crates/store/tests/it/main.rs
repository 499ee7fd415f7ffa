//! The store's integration tests. Every test runs on a fresh SQLite file and, with `SCIMD_TEST_POSTGRES_URL`
//! set, on a fresh PostgreSQL schema (see `scimd_store::testing`).

mod audit;
mod concurrency;
mod fixtures;
mod schema;
mod uniqueness;
