//! `TokenError`: the one error type of the crate. Each HTTP surface maps it in one place: the SCIM API answers
//! every `Unauthorized` with the same 401 and `Store` with a 503; the admin pages render an HTML page.

use scimd_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A bearer token, login link or session cookie was refused. Deliberately without detail: the reason is
    /// logged at debug level (never the token), and every bad credential looks the same from outside.
    #[error("unauthorized")]
    Unauthorized,
    /// SCIM provisioning needs an SSO connection on the org.
    #[error("set up SSO first: this organization has no SSO connection")]
    SsoRequired,
    #[error("organization not found")]
    OrgNotFound,
    /// `generate` on an org that already has a live token: use `regenerate`.
    #[error("this organization already has a SCIM token; regenerate it instead")]
    AlreadyConfigured,
    /// `regenerate` on an org without a live token: use `generate`.
    #[error("this organization has no SCIM token to regenerate")]
    NotConfigured,
    #[error("no member with that email in this organization")]
    MemberNotFound,
    #[error("the member is not active")]
    MemberInactive,
    /// A value given on the command line or in configuration is not one of the accepted ones.
    #[error("{0}")]
    InvalidInput(String),
    /// The operating system's random source failed; nothing was generated.
    #[error("the operating system's random source failed")]
    Random,
    /// Something stored cannot be read back (a settings document, a ciphertext).
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// The database failed; says nothing about the credential (the SCIM API answers 503, not 401).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::random::RandomError> for TokenError {
    fn from(_: crate::random::RandomError) -> Self {
        TokenError::Random
    }
}

/// Every `TokenError` rolls its unit of work back.
impl scimd_store::UnitError for TokenError {}

impl TokenError {
    /// True when the database, not the request, is at fault.
    pub fn is_unavailable(&self) -> bool {
        match self {
            TokenError::Store(err) => err.is_unavailable() || matches!(err, StoreError::Database(_)),
            TokenError::Random => true,
            _ => false,
        }
    }
}
