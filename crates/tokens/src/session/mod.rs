//! Admin sessions: single-use login links exchanged for a session cookie, both HS256 JWTs that name a row in
//! the database (`login_links`, `admin_sessions`). The row is the authority: logging out, deprovisioning the
//! member or changing their role takes effect on the next request of every process.

mod jwt;
mod service;

pub use service::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_SESSION_LIFETIME, LAST_SEEN_INTERVAL, LOGIN_LINK_LIFETIME, LoginLink,
    LoginLinkPreview, Session, SessionInfo, SessionService, SessionSettings, SsoDecision, SsoRefusal,
    SsoSignIn,
};
