//! Webhooks for the platform (issue #13): the event feed pushed to HTTPS endpoints, signed per Standard
//! Webhooks, delivered at least once, in feed order per endpoint, retried for days.
//!
//! - `service`: `WebhookService`: endpoints (create with a `whsec_` secret shown once, list, delete, replay)
//!   and their delivery log; the secrets are encrypted at rest (`scimd_tokens::cipher`);
//! - `worker`: the delivery loop every process runs; several processes share the endpoints by lease;
//! - `signature`: `SigningSecret`, signing, and the receiver's check (`verify`);
//! - `client`: the outbound HTTP client (rustls, timeouts, no redirects, capped bodies);
//! - `audit_url`: the part of a URL the audit trail keeps (scheme, host, port);
//! - `address`: where deliveries may go (no private addresses unless `SCIMD_WEBHOOK_ALLOW_PRIVATE=true`);
//! - `test_event`: the "send test event" of the admin page and the CLI;
//! - `error`: `WebhookError`, the crate's one error type.

pub mod address;
pub mod audit_url;
pub mod client;
pub mod error;
pub mod service;
pub mod signature;
pub mod test_event;
pub mod worker;

pub use address::AddressPolicy;
pub use error::WebhookError;
pub use service::{CreatedEndpoint, WebhookLimits, WebhookService};
pub use signature::{SigningSecret, verify};
pub use worker::{Worker, WorkerSettings};
