//! scimd as an OpenID Shared Signals transmitter (issue #28): SSF 1.0 with CAEP 1.0, RISC 1.0 and RFC 9967's
//! SCIM provisioning events, made from the event feed (the feed is the outbox, as for webhooks).
//!
//! - `http`: the routes (`/.well-known/ssf-configuration`, `/ssf/...`) and their handlers;
//! - `service`: `SsfService`: streams owned by platform API keys, status, subjects, verification, SETs made
//!   from the feed, polls (RFC 8936);
//! - `worker`: `PushWorker`, push delivery (RFC 8935) in order per stream, leased across processes;
//! - `events`: the event types and the mapping of feed events to SET payloads;
//! - `set`: the SET's claims, subjects and RS256 signature (the OpenID Provider's key);
//! - `model`: the queries of the transmitter's tables (declared in `scimd_store::schema` with every other);
//! - `error`: `SsfError`, and the one place it becomes an HTTP response.

pub mod error;
pub mod events;
pub mod http;
pub mod model;
pub mod service;
pub mod set;
pub mod worker;

pub use error::SsfError;
pub use http::configure;
pub use service::SsfService;
pub use worker::{PushSettings, PushWorker};
