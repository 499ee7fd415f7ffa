//! The audit actions this crate records, and the one helper that writes them. Details never hold a secret:
//! a token appears only as its hint, a member only as its id. The actions that change who can provision or
//! sign in (an SSO connection set or removed, a SCIM token generated, revoked or expired) also append their
//! feed event (`scimd_store::models::events`) in the same transaction.

use scimd_store::models::audit_events::{self, NewAuditEvent};
use scimd_store::models::events::{self, types};
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
/// A sign-in through the org's SSO connection that was refused; `details.reason` says why.
pub const SSO_SIGNIN_REFUSED: &str = "sso.signin_refused";

/// The actor recorded when scimd itself acts (an expiry noticed while verifying).
pub const SYSTEM_ACTOR: &str = "system";

/// The actor of what the org's identity provider's message caused (a refused sign-in).
pub const IDP_ACTOR: &str = "idp";

/// The actor of what a browser nobody has authenticated caused: a refused sign-in whose pending request it
/// used up (another browser's RelayState, an IdP error it carried back, a code that did not redeem).
pub const ANONYMOUS_ACTOR: &str = "anonymous";

/// The actor string for a member acting through the admin pages.
pub fn member_actor(member_id: &str) -> String {
    format!("member:{member_id}")
}

/// The feed event of an audit action, if it has one.
fn event_type(action: &str) -> Option<&'static str> {
    Some(match action {
        TOKEN_GENERATED | TOKEN_REGENERATED => types::SCIM_TOKEN_GENERATED,
        TOKEN_REVOKED | TOKEN_EXPIRED => types::SCIM_TOKEN_REVOKED,
        SSO_SAML_SET | SSO_AZURE_SET => types::SSO_CONNECTION_SET,
        SSO_REMOVED => types::SSO_CONNECTION_REMOVED,
        ADMIN_LOGOUT => types::SESSION_REVOKED,
        _ => return None,
    })
}

/// Appends the audit event and, for the actions that have one, its feed event, inside the caller's unit of
/// work. Public for the SSO connection (`scimd_signin::connection`), whose actions are listed here.
pub fn record(
    conn: &mut DbConnection,
    org: &OrgId,
    at: chrono::NaiveDateTime,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    if let Some(event_type) = event_type(action) {
        // The audit details name what changed without a secret; the feed adds which action it was.
        let mut data = details.clone();
        if let Some(o) = data.as_object_mut() {
            o.insert("action".into(), serde_json::Value::from(action));
        }
        events::append(conn, org, event_type, at, &data)?;
    }
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
