//! `AdminError`: every way an admin request fails, and the one place it becomes a response: an HTML error page
//! with the right status, with `Retry-After` when the database is unavailable.

use crate::assets::Assets;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use scimd_store::StoreError;
use scimd_tokens::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No session cookie.
    #[error("sign in required")]
    NotSignedIn,
    /// A session cookie that no longer works: expired, logged out, revoked, or the member was deactivated.
    /// The response clears the cookie.
    #[error("session ended")]
    SessionEnded { clear_cookie: String },
    /// A login link that was already used, has expired, or was never valid.
    #[error("login link not valid")]
    LoginLinkInvalid,
    /// Signed in, but to another organization than the one in the URL.
    #[error("signed in to another organization")]
    WrongOrg,
    /// The member role may look but not change anything.
    #[error("read-only access")]
    ReadOnly,
    /// A POST whose Origin (or Referer) is not this server.
    #[error("cross-origin request refused")]
    CrossOrigin,
    /// A POST without the form's CSRF token, or with another one.
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("not found")]
    NotFound,
    /// The org has no SSO connection to sign in through.
    #[error("no SSO connection")]
    NoSso,
    /// An SSO sign-in was refused (the reason code is in the audit trail, not on the page).
    #[error("SSO sign-in refused: {0:?}")]
    SignInRefused(scimd_signin::Refusal),
    /// The same, for a sign-in an OpenID Provider client asked for: the page says why and leads back to the
    /// client with `error=access_denied` (this URL), so that the platform can show its own page.
    #[error("SSO sign-in refused: {0:?} (back to the client)")]
    SignInRefusedForClient(scimd_signin::Refusal, String),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A request that conflicts with the current state (for example generating a second token).
    #[error("{0}")]
    Conflict(String),
    /// Too many requests from this address or to this organization (the sign-in throttle, or the org's most
    /// pending sign-ins): 429 with `Retry-After`.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database is unavailable.
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AdminError::NotFound,
            err if err.is_unavailable() => AdminError::Unavailable,
            err => AdminError::Internal(err.to_string()),
        }
    }
}

impl From<TokenError> for AdminError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::OrgNotFound => AdminError::NotFound,
            TokenError::AlreadyConfigured | TokenError::NotConfigured | TokenError::SsoRequired => {
                AdminError::Conflict(err.to_string())
            }
            TokenError::InvalidInput(message) => AdminError::BadRequest(message),
            err if err.is_unavailable() => AdminError::Unavailable,
            err => AdminError::Internal(err.to_string()),
        }
    }
}

impl From<scimd_signin::ConnectionError> for AdminError {
    fn from(err: scimd_signin::ConnectionError) -> Self {
        use scimd_signin::ConnectionError as C;
        match err {
            C::OrgNotFound => AdminError::NotFound,
            C::Invalid(errors) => AdminError::BadRequest(errors.to_string()),
            C::Token(err) => err.into(),
            C::Store(err) => err.into(),
            err => AdminError::Internal(err.to_string()),
        }
    }
}

impl From<scimd_webhooks::WebhookError> for AdminError {
    fn from(err: scimd_webhooks::WebhookError) -> Self {
        use scimd_webhooks::WebhookError as W;
        match err {
            W::NotFound => AdminError::NotFound,
            W::InvalidUrl(_) | W::PrivateAddress | W::InvalidInput(_) => {
                AdminError::BadRequest(err.to_string())
            }
            W::Store(err) => err.into(),
            W::Token(err) => err.into(),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<scimd_signin::SignInError> for AdminError {
    fn from(err: scimd_signin::SignInError) -> Self {
        use scimd_signin::SignInError as S;
        match err {
            S::NoConnection | S::Unsupported => AdminError::NoSso,
            S::Refused { refusal, .. } => AdminError::SignInRefused(refusal),
            S::BadReturnTo => AdminError::BadRequest(err.to_string()),
            S::TooManyPending => AdminError::TooManyRequests {
                retry_after_secs: PENDING_RETRY_AFTER_SECS,
            },
            S::Token(err) => err.into(),
            S::Connection(err) => err.into(),
            S::Store(err) => err.into(),
            err if err.is_unavailable() => AdminError::Unavailable,
            // A connection that cannot be used is the admin's to fix; the browser hears "try later".
            err => AdminError::Internal(err.to_string()),
        }
    }
}

/// The authorize endpoint's errors that are shown, not redirected: an unknown client or a redirect URI that
/// is not registered (the rest of the OpenID Provider answers OAuth error objects, `crate::oauth`).
impl From<scimd_signin::oauth::ProviderError> for AdminError {
    fn from(err: scimd_signin::oauth::ProviderError) -> Self {
        use scimd_signin::oauth::ProviderError as P;
        match err {
            P::InvalidClient => AdminError::BadRequest("unknown client_id".into()),
            P::InvalidRequest(message) => AdminError::BadRequest(message),
            P::Token(err) => err.into(),
            P::Store(err) => err.into(),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AdminError {
    fn from(err: askama::Error) -> Self {
        AdminError::Internal(format!("template: {err}"))
    }
}

/// What an error page says.
struct Explanation {
    title: &'static str,
    message: String,
    /// Where to go from here: (label, href).
    action: Option<(&'static str, std::borrow::Cow<'static, str>)>,
}

impl AdminError {
    fn explain(&self) -> Explanation {
        let plain = |title, message: &str| Explanation {
            title,
            message: message.to_owned(),
            action: None,
        };
        match self {
            AdminError::NotSignedIn => Explanation {
                title: "Sign in required",
                message: "Sign in with SSO, or open the sign-in link you were given, to reach Organization \
                          Settings. Your organization's owner can have one sent to you."
                    .into(),
                action: Some(("About signing in", "/admin".into())),
            },
            AdminError::SessionEnded { .. } => Explanation {
                title: "Your session has ended",
                message: "Your session expired, was signed out, or your access was revoked. Ask an owner of \
                          your organization for a new sign-in link."
                    .into(),
                action: Some(("About signing in", "/admin".into())),
            },
            AdminError::LoginLinkInvalid => Explanation {
                title: "This sign-in link no longer works",
                message: "Sign-in links work once, for 10 minutes. Ask for a new one.".into(),
                action: Some(("About signing in", "/admin".into())),
            },
            AdminError::WrongOrg => plain(
                "Another organization",
                "You are signed in to a different organization. Sign out and use a sign-in link for this one.",
            ),
            AdminError::ReadOnly => plain(
                "Read-only access",
                "Your role lets you view these settings but not change them. Ask an owner or an admin.",
            ),
            AdminError::CrossOrigin => plain(
                "Request refused",
                "The form was not sent from this site, so nothing was changed.",
            ),
            AdminError::Csrf => plain(
                "Request refused",
                "The form was out of date or incomplete, so nothing was changed. Reload the page and try \
                 again.",
            ),
            AdminError::NotFound => plain("Page not found", "There is nothing at this address."),
            AdminError::NoSso => Explanation {
                title: "No single sign-on here",
                message: "This organization has no SSO connection to sign in through. Use the sign-in link \
                          an owner sent you, or ask them to set up SSO."
                    .into(),
                action: Some(("About signing in", "/admin".into())),
            },
            AdminError::SignInRefusedForClient(refusal, back) => Explanation {
                action: Some(("Return to the application", back.clone().into())),
                ..AdminError::SignInRefused(*refusal).explain()
            },
            AdminError::SignInRefused(scimd_signin::Refusal::NotProvisioned) => Explanation {
                title: "You do not have access yet",
                message: "Your identity provider signed you in, but it has not given you access to this \
                          organization here. Ask your IT administrator to assign you to this application in \
                          your identity provider (Okta, Microsoft Entra ID), then sign in again."
                    .into(),
                action: Some(("About signing in", "/admin".into())),
            },
            AdminError::SignInRefused(scimd_signin::Refusal::Deactivated) => Explanation {
                title: "Your access has been removed",
                message: "Your account in this organization is deactivated. If you should have access, ask \
                          your IT administrator."
                    .into(),
                action: Some(("About signing in", "/admin".into())),
            },
            AdminError::SignInRefused(scimd_signin::Refusal::Failed) => Explanation {
                title: "Sign-in did not complete",
                message: "The sign-in could not be verified, or it was already used or took too long. Start \
                          again from your organization's sign-in page."
                    .into(),
                action: Some(("About signing in", "/admin".into())),
            },
            AdminError::BadRequest(message) => Explanation {
                title: "Request not understood",
                message: message.clone(),
                action: None,
            },
            AdminError::Conflict(message) => Explanation {
                title: "Nothing was changed",
                message: capitalise(message),
                action: None,
            },
            AdminError::TooManyRequests { .. } => plain(
                "Too many sign-in attempts",
                "Too many sign-in attempts came from your network or to your organization just now. Wait a \
                 minute, then try again.",
            ),
            AdminError::Unavailable => plain(
                "Temporarily unavailable",
                "The database is not answering. Try again in a moment.",
            ),
            AdminError::Internal(_) => plain(
                "Something went wrong",
                "The error was logged. Try again, and tell your operator if it keeps happening.",
            ),
        }
    }
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    assets: Assets,
    status: u16,
    title: &'a str,
    message: &'a str,
    action: Option<(&'a str, &'a str)>,
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::NotSignedIn | AdminError::SessionEnded { .. } | AdminError::LoginLinkInvalid => {
                StatusCode::UNAUTHORIZED
            }
            AdminError::WrongOrg | AdminError::ReadOnly | AdminError::CrossOrigin | AdminError::Csrf => {
                StatusCode::FORBIDDEN
            }
            AdminError::NotFound | AdminError::NoSso => StatusCode::NOT_FOUND,
            AdminError::SignInRefused(_) | AdminError::SignInRefusedForClient(..) => StatusCode::FORBIDDEN,
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Conflict(_) => StatusCode::CONFLICT,
            AdminError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AdminError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        log(self, status);
        let explanation = self.explain();
        let page = ErrorPage {
            assets: Assets::get(),
            status: status.as_u16(),
            title: explanation.title,
            message: &explanation.message,
            action: explanation
                .action
                .as_ref()
                .map(|(label, href)| (*label, href.as_ref())),
        };
        let mut response = HttpResponse::build(status);
        if let AdminError::SessionEnded { clear_cookie } = self {
            response.insert_header((header::SET_COOKIE, clear_cookie.as_str()));
        }
        if let AdminError::Unavailable = self {
            response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS));
        }
        if let AdminError::TooManyRequests { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, *retry_after_secs));
            response.insert_header((header::CACHE_CONTROL, "no-store"));
        }
        match page.render() {
            Ok(html) => response
                .insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ))
                .body(html),
            Err(err) => {
                tracing::error!(error = %err, "the error page failed to render");
                response.body(explanation.title)
            }
        }
    }
}

/// `Retry-After` of a 503 while the database is unavailable.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;
/// `Retry-After` when the org has its most pending sign-ins: abandoned ones expire within ten minutes, and
/// most are used within a minute.
const PENDING_RETRY_AFTER_SECS: u64 = 60;

fn log(err: &AdminError, status: StatusCode) {
    if let AdminError::Unavailable = err {
        // The store logs an outage once, when it starts and when it ends, not once per request.
        tracing::debug!(error = %err, "admin request failed: database unavailable");
    } else if status.is_server_error() {
        tracing::error!(error = %err, "admin request failed");
    } else {
        tracing::debug!(error = %err, "admin request refused");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_database_is_503_with_retry_after() {
        for err in [
            StoreError::Unreachable("connection refused".into()),
            StoreError::Unwritable("read-only".into()),
        ] {
            let page = AdminError::from(err).error_response();
            assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(page.headers().get(header::RETRY_AFTER).unwrap(), "5");
        }
    }
}
