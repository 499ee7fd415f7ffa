//! The server's integration tests: the `scimd` binary as operators run it, and the HTTP server started for
//! real on 127.0.0.1:0 over an isolated database (both backends where the database matters).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

mod activity;
mod body_reads;
mod browser;
mod browser_sso;
mod cli;
mod deploy;
mod directory;
mod events_feed;
mod harness;
mod http;
mod keys;
mod lifecycle;
mod logs;
mod oauth_provider;
mod org_limits;
mod owner_over_scim;
mod scim_client;
mod scim_isolation;
mod scim_replay;
mod sso_entra;
mod sso_signin;
mod token_cli;
mod webhook_receiver;
mod webhooks;
