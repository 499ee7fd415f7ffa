//! A file per table: the row type, its insert (and update) forms, and the queries, as functions that take the
//! connection. Every query of org-owned data takes the `OrgId` and filters on it first.

pub mod admin_sessions;
pub mod admin_views;
pub mod audit_events;
pub mod groups;
pub mod login_links;
pub mod members;
pub mod organizations;
pub mod safety_valve;
pub mod scim_activity;
pub mod scim_tokens;
pub mod server_secrets;
pub mod sso_connections;
