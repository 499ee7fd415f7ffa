//! The scimd server: configuration, the CLI, and every service composed into one actix App.
//!
//! - `cli`: the subcommands operators script (`serve`, `migrate`, `org ...`) and their `--json` output;
//! - `config`: settings from flags and environment, each error naming its setting;
//! - `serve` and `app`: the HTTP server and the routes it composes (`state`: what every handler reaches); `health` holds the probes, and
//!   `store_metrics` the store's figures on `/metrics`;
//! - `scim_api`: the SCIM 2.0 API; `org_limiter`: its per-org limits; `platform_api`: the platform's
//!   event feed (`/api/v1/events`) with API keys; `sequencer`: the feed's upkeep (positions, retention);
//! - `signin_limiter`: the throttle of the public sign-in endpoints (`/sso`, `/admin/sso`, `/oauth`);
//! - `role_jobs`: the worker that finishes mapping changes on large groups, a batch per transaction;
//! - `bootstrap`: the demo org a newcomer gets on an empty database;
//! - `telemetry`: logs (human or JSON) and request ids.

pub mod activity;
pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod error;
pub mod health;
pub mod org_limiter;
pub mod platform_api;
pub mod role_jobs;
pub mod scim_api;
pub mod sequencer;
pub mod serve;
pub mod signin_limiter;
pub mod state;
pub mod store_metrics;
pub mod telemetry;
