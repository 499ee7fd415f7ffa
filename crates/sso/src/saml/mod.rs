//! SAML 2.0 Service Provider for one org's connection.
//!
//! - `config`: [`SpConfig`] (SP entity ID and ACS URL derived from the public URL and org, the IdP entity ID,
//!   one or two pinned certificates for rollover, skew, unsolicited on/off) and [`SpConfigError`];
//! - `verify`: [`verify_response`], the ACS pipeline (`crates/sso/README.md`), in the order: bound and decode
//!   the input (`binding`), parse once (`xml`), check the structure (`structure`), check and verify the
//!   signatures (`signature`), then read and check the claims of the verified assertion (`assertion`);
//! - `binding`: HTTP-POST decoding and HTTP-Redirect encoding/decoding with size caps (deflate-bomb safe);
//! - `error`: [`SamlError`], one variant per refusal reason, each with a stable `reason_code()`;
//! - `authn_request`: the SP-initiated request ([`authn_request::build`]);
//! - `metadata`: SP metadata ([`metadata::sp_metadata`]) and the IdP metadata reader
//!   ([`metadata::parse_idp_metadata`]).
//!
//! What the integrator still owns: the replay table (insert [`VerifiedAssertion::assertion_id`] until
//! [`VerifiedAssertion::replay_keep_until`], unique per org, inside the login transaction), the pending-request
//! lookup by `RelayState` and browser cookie (which yields the [`Expectation`]), and the member mapping (S17:
//! by `objectidentifier` or persistent NameID; never by e-mail alone).

mod assertion;
pub mod authn_request;
pub mod binding;
mod config;
mod error;
pub mod metadata;
mod names;
mod signature;
mod structure;
mod verify;
mod xml;

pub use assertion::{Expectation, VerifiedAssertion};
pub use config::{DEFAULT_CLOCK_SKEW, MAX_CLOCK_SKEW, SpConfig, SpConfigError};
pub use error::SamlError;
pub use signature::CertificateSlot;
pub use verify::{VerifyFailure, verify_response, verify_response_staged};
