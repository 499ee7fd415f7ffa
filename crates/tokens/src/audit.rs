//! The audit actions this crate records, and the one helper that writes them. Details never hold a secret:
//! a token appears only as its hint, a member only as its id.

use scimd_store::models::audit_events::{self, NewAuditEvent};
use scimd_store::{DbConnection, OrgId, StoreError};

pub const TOKEN_GENERATED: &str = "token.generated";
pub const TOKEN_REGENERATED: &str = "token.regenerated";
pub const TOKEN_REVOKED: &str = "token.revoked";
pub const TOKEN_EXPIRED: &str = "token.expired";
pub const SSO_SAML_SET: &str = "sso.saml_set";
pub const SSO_AZURE_SET: &str = "sso.azure_set";
pub const SSO_REMOVED: &str = "sso.removed";
pub const ADMIN_LOGIN_LINK_ISSUED: &str = "admin.login_link_issued";
pub const ADMIN_LOGIN: &str = "admin.login";
pub const ADMIN_LOGOUT: &str = "admin.logout";

/// The actor recorded when scimd itself acts (an expiry noticed while verifying).
pub const SYSTEM_ACTOR: &str = "system";

/// The actor string for a member acting through the admin pages.
pub fn member_actor(member_id: &str) -> String {
    format!("member:{member_id}")
}

pub(crate) fn record(
    conn: &mut DbConnection,
    org: &OrgId,
    at: chrono::NaiveDateTime,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    audit_events::append(
        conn,
        &NewAuditEvent {
            org_id: org,
            occurred_at: at,
            actor,
            action,
            target,
            details,
        },
    )
}
