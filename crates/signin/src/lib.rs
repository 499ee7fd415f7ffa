//! The org's SSO connection and sign-in through it, as services the admin pages and the CLI call: the protocol
//! work is `scimd-sso`'s, the session is `scimd-tokens`'; this crate joins them to the database.
//!
//! - `connection`: [`ConnectionService`]: the org's SSO connection (SAML or Azure AD) set, validated field by
//!   field, read as a summary without secrets, removed (which revokes the org's SCIM tokens);
//! - `service`: [`SignInService`]: `start` (the pending request and the redirect to the IdP), the SAML ACS
//!   (`saml_acs`, which hands the sign-in off to the browser's next request, a top-level GET that carries the
//!   session cookie: `complete`), and the SP metadata;
//! - `oidc`: the Entra ID callback, in three steps (consume and read; redeem and verify; map and sign in);
//! - `oauth`: "Sign in with scimd": the OpenID Provider the platform signs its users in through (clients,
//!   authorize, token and its siblings, signing keys);
//! - `browser`: the values a sign-in hands the browser (RelayState, the binding cookie) and the checked
//!   return path; only their SHA-256 digests are stored;
//! - `jwks`: the Entra tenants' JWKS caches, shared by the workers;
//! - `identity`: who the verified assertion is: an active member of this org only, by `externalId`, then by
//!   `userName` (issue #14); nobody is created at sign-in;
//! - `error`: [`SignInError`], with a reason code for every refusal; [`ConnectionError`].
//!
//! Every refusal after a verified message or a used-up pending request is audited (`sso.signin_refused` with
//! its reason); one before anything was verified is only counted (`/metrics`), since anyone can cause it
//! (review H-1). What the browser is told stays generic, except that a person the IdP has not provisioned is
//! told so.

mod browser;
pub mod connection;
mod error;
mod identity;
mod jwks;
pub mod oauth;
mod oidc;
mod service;

pub use browser::{BROWSER_COOKIE_SECS, MAX_RETURN_TO};
pub use connection::{ConnectionService, ConnectionSummary};
pub use error::{ConnectionError, Refusal, SignInError};
pub use oidc::{OidcCallback, OidcIdentity};
/// The outbound client step 2 of an OIDC sign-in runs on (one per actix worker: it is not `Send`).
pub use scimd_sso::oidc::http::{DEFAULT_TIMEOUT as OIDC_HTTP_TIMEOUT, HttpClient as OidcHttpClient};
/// The IdP metadata reader behind the admin form's upload (the admin confirms what it read).
pub use scimd_sso::saml::metadata::{IdpMetadata, MetadataError, parse_idp_metadata};
pub use service::{
    DEFAULT_PENDING_PER_ORG, Finished, HANDOFF_SECS, HandedOff, SignInService, Started,
    unverified_refusals_counter,
};
