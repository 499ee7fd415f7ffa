//! The admin pages' handler tests: `scimd_admin::configure` in an actix test service over a fresh database
//! (SQLite and, with `SCIMD_TEST_POSTGRES_URL`, PostgreSQL), signed in through real login links.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

mod activity;
mod attributes;
mod audit;
mod directory_pages;
mod limits;
mod login;
mod members;
mod role_mappings;
mod roles;
mod safety_valve;
mod scim;
mod security;
mod sso;
mod support;
mod webhooks;
