//! Who a verified assertion is (issue #14, "Who gets in"): a member of this org only, never of another. First
//! by the stable identifiers the IdP provisioned as the SCIM `externalId` (Entra's object ID, a persistent
//! NameID), then by `userName` equal to the NameID or the e-mail the IdP asserted, case-insensitively (the
//! store's userName key). Deleted members are not found; whether the member found is active is the session
//! service's check. Nobody is created here.

use scimd_store::models::members;
use scimd_store::{DbConnection, OrgId, StoreError};
use scimd_tokens::{SsoDecision, SsoRefusal};

/// `ids`: candidate `externalId` values, strongest first; `names`: candidate userNames.
pub(crate) fn find_member(
    conn: &mut DbConnection,
    org: &OrgId,
    ids: &[&str],
    names: &[&str],
) -> Result<SsoDecision, StoreError> {
    for id in ids.iter().filter(|id| !id.is_empty()) {
        match members::find_by_external_id(conn, org, id, 2)?.as_slice() {
            [] => {}
            [one] => return Ok(SsoDecision::Member(one.member_id())),
            // Two members share the identifier: signing in as either would be a guess.
            _ => return Ok(SsoDecision::Refuse(SsoRefusal::new("identity_ambiguous", None))),
        }
    }
    for name in names.iter().filter(|n| !n.is_empty()) {
        if let Some(member) = members::find_by_user_name(conn, org, name)? {
            return Ok(SsoDecision::Member(member.member_id()));
        }
    }
    Ok(SsoDecision::Refuse(SsoRefusal::new("not_provisioned", None)))
}
