//! [`SignInError`]: why a sign-in did not end in a session; [`ConnectionError`]: why the org's SSO connection
//! was not set or read. The admin pages map each to a page, once.

use crate::connection::validate::ValidationErrors;
use scimd_store::StoreError;
use scimd_tokens::TokenError;

/// Why the org's SSO connection was not set, read or removed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The settings were refused; one entry per field at fault.
    #[error("invalid SSO settings: {0}")]
    Invalid(ValidationErrors),
    #[error("organization not found")]
    OrgNotFound,
    /// The stored settings cannot be read back.
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// The secret cipher failed (its key, the random source, a ciphertext).
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every `ConnectionError` rolls its unit of work back.
impl scimd_store::UnitError for ConnectionError {}

impl ConnectionError {
    /// True when the database (or the random source), not the request, is at fault.
    pub fn is_unavailable(&self) -> bool {
        match self {
            ConnectionError::Token(e) => e.is_unavailable(),
            ConnectionError::Store(e) => e.is_unavailable() || matches!(e, StoreError::Database(_)),
            _ => false,
        }
    }
}

/// A refused sign-in, as the browser's page distinguishes it. The reason code (in the audit trail) says more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The IdP vouched for someone who is not a member of this org: they must be assigned in the IdP first.
    NotProvisioned,
    /// The member exists but is deactivated.
    Deactivated,
    /// Anything else: a message that failed verification, a used or unknown request, another browser.
    Failed,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// The org has no SSO connection (or no such org).
    #[error("the organization has no SSO connection")]
    NoConnection,
    /// The connection's kind has no sign-in here yet.
    #[error("sign-in through this kind of SSO connection is not available")]
    Unsupported,
    /// The stored connection cannot be used (an expired certificate, say): the admin must fix it.
    #[error("the organization's SSO connection cannot be used: {0}")]
    Misconfigured(String),
    #[error("return_to must be a path on this server (starting with one /), at most {max} bytes", max = crate::MAX_RETURN_TO)]
    BadReturnTo,
    /// Refused; `reason` is the audited reason code. `return_to` is where the sign-in was to go back to, for
    /// a refusal of the member (not provisioned, deactivated): an OpenID Provider request sends the browser
    /// back to its client with `access_denied` from there.
    #[error("sign-in refused ({reason})")]
    Refused {
        reason: &'static str,
        refusal: Refusal,
        return_to: Option<String>,
    },
    /// The org already has its most live pending sign-ins (a flood of starts): try again shortly.
    #[error("too many sign-ins of this organization are in progress")]
    TooManyPending,
    #[error("the operating system's random generator failed")]
    Random,
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SignInError {
    pub(crate) fn refused(reason: &'static str) -> SignInError {
        let refusal = match reason {
            "not_provisioned" => Refusal::NotProvisioned,
            "member_inactive" => Refusal::Deactivated,
            _ => Refusal::Failed,
        };
        SignInError::Refused {
            reason,
            refusal,
            return_to: None,
        }
    }

    /// A refusal of the member, which knows where the sign-in was going.
    pub(crate) fn refused_returning(reason: &'static str, return_to: String) -> SignInError {
        match SignInError::refused(reason) {
            SignInError::Refused { reason, refusal, .. } => SignInError::Refused {
                reason,
                refusal,
                return_to: Some(return_to),
            },
            other => other,
        }
    }

    /// A database outage, not a refusal: 503.
    pub fn is_unavailable(&self) -> bool {
        match self {
            SignInError::Token(e) => e.is_unavailable(),
            SignInError::Connection(e) => e.is_unavailable(),
            SignInError::Store(e) => e.is_unavailable(),
            _ => false,
        }
    }
}
