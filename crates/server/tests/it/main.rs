//! The server's integration tests, on both backends where the database matters: the HTTP surfaces (SCIM, the
//! platform API, sign-in) against the real app in-process (`test_app::TestApp`, on 127.0.0.1:0 over an
//! isolated database), and the `scimd` binary as operators run it (`harness`: the CLI, deployment, logs, and
//! the cases of two processes on one database).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly on the first surprise"
)]

mod activity;
mod api_prefix;
mod attribute_cli;
mod audit_api;
mod body_reads;
mod browser;
mod browser_sso;
mod cli;
mod custom_attributes;
mod deploy;
mod directory;
mod events_feed;
mod examples;
mod harness;
mod http;
mod identity_edge;
mod key_rotation;
mod keys;
mod lifecycle;
mod logs;
mod nul_paths;
mod oauth_provider;
mod oauth_step_up;
mod openapi;
mod openapi_schema;
mod org_limits;
mod outage;
mod owner_over_scim;
mod roles;
mod scim_client;
mod scim_isolation;
mod scim_replay;
mod signin_floods;
mod ssf;
mod sso_entra;
mod sso_handoff;
mod sso_signin;
mod test_app;
mod token_cli;
mod token_use;
mod webhook_fairness;
mod webhook_receiver;
mod webhooks;
