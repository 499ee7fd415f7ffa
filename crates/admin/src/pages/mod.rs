//! A file per page: its handlers and its template struct.

pub mod activity;
pub mod audit;
pub mod groups;
pub mod limits;
pub mod login;
pub mod members;
pub mod safety_valve;
pub mod scim;
pub mod settings;
pub mod sso;
pub mod sso_signin;
pub mod webhooks;
