//! `WebhookError`: the crate's one error type.

use scimd_store::StoreError;
use scimd_tokens::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid webhook URL: {0}")]
    InvalidUrl(String),
    #[error(
        "the webhook URL reaches a loopback, link-local or private address; \
         set SCIMD_WEBHOOK_ALLOW_PRIVATE=true to allow it"
    )]
    PrivateAddress,
    #[error("{0}")]
    InvalidInput(String),
    #[error("no webhook endpoint with this id")]
    NotFound,
    #[error("a webhook signing secret is malformed")]
    BadSecret,
    #[error("the random source failed")]
    Random,
    #[error("outbound HTTP setup: {0}")]
    Client(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl From<serde_json::Error> for WebhookError {
    fn from(e: serde_json::Error) -> Self {
        WebhookError::Store(StoreError::from(e))
    }
}

/// Units of work of this crate answer in its errors (a refusal rolls back).
impl scimd_store::UnitError for WebhookError {}
