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
    #[error(
        "this organization already has {max} webhook endpoints, the most it may have; delete one first \
         (the cap is SCIMD_WEBHOOK_MAX_ENDPOINTS_PER_ORG)"
    )]
    TooManyEndpoints { max: usize },
    #[error("a test event was sent to this endpoint less than {seconds} seconds ago; wait and try again")]
    TestThrottled { seconds: u64 },
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
