//! SCIM bearer tokens: the format (`format`), the admin's options (`options`), the lifecycle service
//! (`service`), the check of every SCIM request (`verify`), the read views (`summary`) and the coalescing of
//! `last_used_at` (`usage`).

pub mod format;
pub mod options;
pub mod service;
pub mod summary;
mod usage;
pub mod verify;

pub use format::{PlaintextToken, TokenHash, TokenHint};
pub use options::{Expiry, Grace};
pub use service::{GeneratedToken, TokenService};
pub use summary::{GraceToken, ScimConfigSummary, TokenStatus, TokenSummary};
pub use usage::LAST_USED_INTERVAL;
pub use verify::{FollowUp, VerifiedToken};
