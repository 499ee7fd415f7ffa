//! `ServerError`: what can stop a command, each message naming the setting or step that failed.

use scimd_store::StoreError;
use scimd_tokens::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A setting has a value we cannot use.
    #[error("{setting}: {problem}")]
    Config { setting: &'static str, problem: String },
    /// A server key (`SCIMD_SESSION_SIGNING_KEY[_FILE]`, `SCIMD_SECRET_KEY[_FILE]`) cannot be used; the
    /// message names the setting, never the key.
    #[error("{0}")]
    Keys(String),
    /// The database named by DATABASE_URL could not be opened or migrated.
    #[error("DATABASE_URL: {0}")]
    Database(StoreError),
    /// A unit of work failed after the database was opened.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The command's input names something that does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Standard output was closed before the command finished writing (its reader exited).
    #[error("standard output is closed")]
    StdoutClosed,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

/// What every command says when `--org` names no org: people pass the name, or a name's slug.
pub(crate) const NO_SUCH_ORG: &str = "--org: no organization has this id (--org takes the org's id, not its name: `scimd org list` prints them)";

impl ServerError {
    /// [`NO_SUCH_ORG`], for `org`.
    pub(crate) fn no_such_org(org: &str) -> ServerError {
        ServerError::NotFound(NO_SUCH_ORG.replacen("--org:", &format!("--org {org}:"), 1))
    }
}

/// The one place a token-service error becomes the CLI's.
impl From<TokenError> for ServerError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Store(err) => ServerError::Store(err),
            TokenError::OrgNotFound => ServerError::NotFound(NO_SUCH_ORG.to_owned()),
            err @ TokenError::MemberNotFound => ServerError::NotFound(err.to_string()),
            other => ServerError::Invalid(other.to_string()),
        }
    }
}

/// The one place an SSO-connection error becomes the CLI's.
impl From<scimd_signin::ConnectionError> for ServerError {
    fn from(err: scimd_signin::ConnectionError) -> Self {
        use scimd_signin::ConnectionError as C;
        match err {
            C::Store(err) => ServerError::Store(err),
            C::Token(err) => err.into(),
            C::OrgNotFound => ServerError::NotFound(NO_SUCH_ORG.to_owned()),
            other => ServerError::Invalid(other.to_string()),
        }
    }
}

/// The one place a webhook-service error becomes the CLI's.
impl From<scimd_webhooks::WebhookError> for ServerError {
    fn from(err: scimd_webhooks::WebhookError) -> Self {
        use scimd_webhooks::WebhookError as W;
        match err {
            W::Store(err) => ServerError::Store(err),
            W::Token(err) => err.into(),
            err @ W::NotFound => ServerError::NotFound(format!("--id: {err}")),
            other => ServerError::Invalid(other.to_string()),
        }
    }
}
