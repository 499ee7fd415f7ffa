//! The store's integration tests. Every test runs on a fresh SQLite file and, with `SCIMD_TEST_POSTGRES_URL`
//! set, on a fresh PostgreSQL schema (see `scimd_store::testing`).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]
mod activity;
mod audit;
mod bounds;
mod cached_plans;
mod concurrency;
mod custom_attribute_plans;
mod events;
mod fixtures;
mod grant_plans;
mod group_commit;
mod group_member_race;
mod lookup_path;
mod org_limits;
mod outage;
mod owner_protection;
mod remove_active;
mod safety_valve;
mod schema;
mod scim_filter;
mod scim_lifecycle;
mod statement_counts;
mod tallies;
mod tls;
mod uniqueness;
mod webhook_visibility;
mod webhooks;
