//! Admin sessions: single-use login links exchanged for a session cookie, both HS256 JWTs that name a row in
//! the database (`login_links`, `admin_sessions`). The row is the authority: logging out, deprovisioning the
//! member or changing their role takes effect on the next request of every process.
//!
//! - `service`: [`SessionService`], the check on every admin request, logout, opening and ending a session;
//! - `login_link`: issue, preview and exchange a login link;
//! - `sso_signin`: a sign-in through the org's IdP, and its audited refusals;
//! - `jwt`: the HS256 cookie and link format.

mod jwt;
mod login_link;
mod service;
mod sso_signin;

pub use login_link::{LOGIN_LINK_LIFETIME, LoginLink, LoginLinkPreview};
pub use service::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_SESSION_LIFETIME, LAST_SEEN_INTERVAL, Session, SessionInfo, SessionService,
    SessionSettings,
};
pub use sso_signin::{SsoCompletion, SsoDecision, SsoHandOff, SsoRefusal, SsoSignIn};
