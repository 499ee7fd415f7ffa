//! Who a verified assertion is (issue #14, "Who gets in"; issue #23, review 3 M-1): a member of this org that
//! its IdP provisioned over SCIM, never of another org, and never found by an e-mail claim or attribute.
//! First by the stable identifier the IdP provisioned as the SCIM `externalId` (Entra's object ID, the
//! objectidentifier attribute, a persistent NameID), then by `userName` equal to the IdP's own login name (the
//! SAML NameID, Entra's `preferred_username`), case-insensitively (the store's userName key): that userName
//! is the IdP's mapping because the IdP provisioned it. A member SCIM does not manage (the CLI-made owner, an
//! invited member) is found only once SCIM has linked it. Deleted members are not found; whether the member
//! found is active is the session service's check. Nobody is created here.

use scimd_store::models::members;
use scimd_store::{DbConnection, OrgId, StoreError};
use scimd_tokens::{SsoDecision, SsoRefusal};

/// `ids`: candidate `externalId` values, strongest first; `names`: candidate userNames (never an e-mail
/// claim or attribute: anyone who can set their own e-mail at the IdP would choose whom they sign in as).
pub(crate) fn find_member(
    conn: &mut DbConnection,
    org: &OrgId,
    ids: &[&str],
    names: &[&str],
) -> Result<SsoDecision, StoreError> {
    for id in ids.iter().filter(|id| !id.is_empty()) {
        let found: Vec<members::Member> = members::find_by_external_id(conn, org, id, 2)?
            .into_iter()
            .filter(|m| m.scim_managed)
            .collect();
        match found.as_slice() {
            [] => {}
            [one] => return Ok(SsoDecision::Member(one.member_id())),
            // Two members share the identifier: signing in as either would be a guess.
            _ => return Ok(SsoDecision::Refuse(SsoRefusal::new("identity_ambiguous", None))),
        }
    }
    for name in names.iter().filter(|n| !n.is_empty()) {
        if let Some(member) = members::find_by_user_name(conn, org, name)?
            && member.scim_managed
        {
            return Ok(SsoDecision::Member(member.member_id()));
        }
    }
    Ok(SsoDecision::Refuse(SsoRefusal::new("not_provisioned", None)))
}
