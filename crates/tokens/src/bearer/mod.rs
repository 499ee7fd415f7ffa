//! SCIM bearer tokens: the format (`format`), the admin's options (`options`), the lifecycle service
//! (`service`) and the coalescing of `last_used_at` (`usage`).

pub mod format;
pub mod options;
pub mod service;
mod usage;

pub use format::{PlaintextToken, TokenHash, TokenHint};
pub use options::{Expiry, Grace};
pub use service::{
    GeneratedToken, GraceToken, ScimConfigSummary, TokenService, TokenStatus, TokenSummary, VerifiedToken,
};
pub use usage::LAST_USED_INTERVAL;
