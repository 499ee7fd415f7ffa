//! The sign-in crate's integration tests: the org's SSO connection and the OpenID Provider's rules. Database
//! tests run on a fresh SQLite file and, with `SCIMD_TEST_POSTGRES_URL` set, on a fresh PostgreSQL schema
//! (`scimd_store::backend_tests!`). Time is a `FixedClock`: nothing here sleeps.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]
mod connection;
mod fixtures;
mod oauth;
mod oidc_letter;
