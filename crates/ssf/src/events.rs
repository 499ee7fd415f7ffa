//! The event types a stream can carry and how a feed event becomes SET payloads (pure: no I/O).
//!
//! | feed event | SETs (each only if the stream asked for it) |
//! |---|---|
//! | `user.created`, `group.created` | `prov:create:full` (the resource as SCIM shows it) or `prov:create:notice` |
//! | `user.updated`, `group.updated` | `prov:put:full`/`:notice` for a PUT, `prov:patch:full`/`:notice` for a PATCH (the event's `method`; an event written before the feed recorded it is a patch) |
//! | `group.membership_changed` | `prov:patch:full` (`data`: the equivalent PatchOp of the members added and removed, as RFC 9967 §2.4.2's Figure 6) or `prov:patch:notice` (`attributes: ["members"]`), whichever request changed them: scimd applies membership as a delta |
//! | `user.deactivated` | RISC `account-disabled`, `prov:deactivate` |
//! | `user.reactivated` | RISC `account-enabled`, `prov:activate` |
//! | `user.deleted` | RISC `account-purged`, `prov:delete` |
//! | `group.deleted` | `prov:delete` |
//! | `session.revoked` | CAEP `session-revoked` (deprovisioning, logout, a replacing sign-in) |
//! | `user.roles_changed` | CAEP `token-claims-change`, `claims: {"roles": [...]}` (the member's effective roles after the change, as scimd's ID tokens carry them in `roles`) |
//!
//! A `full` and a `notice` of one kind are alternatives: a stream that asked for both gets `full`.

use serde_json::{Value, json};

pub const ACCOUNT_DISABLED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
pub const ACCOUNT_ENABLED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-enabled";
pub const ACCOUNT_PURGED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-purged";
pub const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";
/// Sent when the transmitter itself changes a stream's status (SSF §8.1.5): always delivered, as verification.
pub const STREAM_UPDATED: &str = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated";
pub const PROV_CREATE_FULL: &str = "urn:ietf:params:scim:event:prov:create:full";
pub const PROV_CREATE_NOTICE: &str = "urn:ietf:params:scim:event:prov:create:notice";
pub const PROV_PATCH_FULL: &str = "urn:ietf:params:scim:event:prov:patch:full";
pub const PROV_PATCH_NOTICE: &str = "urn:ietf:params:scim:event:prov:patch:notice";
pub const PROV_PUT_FULL: &str = "urn:ietf:params:scim:event:prov:put:full";
pub const PROV_PUT_NOTICE: &str = "urn:ietf:params:scim:event:prov:put:notice";
/// CAEP §3.2: a claim of the subject's tokens changed; scimd sends it when a member's effective roles change.
pub const TOKEN_CLAIMS_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/token-claims-change";
pub const PROV_DELETE: &str = "urn:ietf:params:scim:event:prov:delete";
pub const PROV_ACTIVATE: &str = "urn:ietf:params:scim:event:prov:activate";
pub const PROV_DEACTIVATE: &str = "urn:ietf:params:scim:event:prov:deactivate";

/// `events_supported`: what a stream may ask for (the verification event is always delivered, SSF §8.1.4).
pub const SUPPORTED: [&str; 14] = [
    SESSION_REVOKED,
    TOKEN_CLAIMS_CHANGE,
    ACCOUNT_DISABLED,
    ACCOUNT_ENABLED,
    ACCOUNT_PURGED,
    PROV_CREATE_FULL,
    PROV_CREATE_NOTICE,
    PROV_PATCH_FULL,
    PROV_PATCH_NOTICE,
    PROV_PUT_FULL,
    PROV_PUT_NOTICE,
    PROV_DELETE,
    PROV_ACTIVATE,
    PROV_DEACTIVATE,
];

/// The feed types a stream that delivers `delivered` reads (the feed is filtered in the database).
pub fn feed_types(delivered: &[String]) -> Vec<String> {
    use scimd_store::models::events::types as t;
    let wants = |uris: &[&str]| delivered.iter().any(|d| uris.contains(&d.as_str()));
    let mut types = Vec::new();
    let create = &[PROV_CREATE_FULL, PROV_CREATE_NOTICE][..];
    let update = &[PROV_PATCH_FULL, PROV_PATCH_NOTICE, PROV_PUT_FULL, PROV_PUT_NOTICE][..];
    for (feed, uris) in [
        (t::USER_CREATED, create),
        (t::USER_UPDATED, update),
        (t::USER_DEACTIVATED, &[ACCOUNT_DISABLED, PROV_DEACTIVATE][..]),
        (t::USER_REACTIVATED, &[ACCOUNT_ENABLED, PROV_ACTIVATE][..]),
        (t::USER_DELETED, &[ACCOUNT_PURGED, PROV_DELETE][..]),
        (t::GROUP_CREATED, create),
        (t::GROUP_UPDATED, update),
        (
            t::GROUP_MEMBERSHIP_CHANGED,
            &[PROV_PATCH_FULL, PROV_PATCH_NOTICE][..],
        ),
        (t::GROUP_DELETED, &[PROV_DELETE][..]),
        (t::SESSION_REVOKED, &[SESSION_REVOKED][..]),
        (t::USER_ROLES_CHANGED, &[TOKEN_CLAIMS_CHANGE][..]),
    ] {
        if wants(uris) {
            types.push(feed.to_owned());
        }
    }
    types
}

/// `events_delivered`: what the stream asked for that scimd sends, in `SUPPORTED`'s order.
pub fn delivered(requested: &[String]) -> Vec<String> {
    SUPPORTED
        .iter()
        .filter(|s| requested.iter().any(|r| r == *s))
        .map(|s| (*s).to_owned())
        .collect()
}

/// How a SET names its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// CAEP and RISC: the member as `iss_sub` (the `sub` of scimd's ID tokens) in a complex subject with its
    /// org as `tenant`.
    Account,
    /// RFC 9967: `{"format": "scim", "uri": "/Users/{id}"}`.
    Scim,
    /// RFC 9967 of a Group: `{"format": "scim", "uri": "/Groups/{id}"}`.
    ScimGroup,
}

/// One SET to make: its event type, payload and subject kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub event_type: &'static str,
    pub payload: Value,
    pub subject: SubjectKind,
}

/// The User as a SCIM representation (RFC 7643), from the feed's shape of a user (`UserView`).
pub fn scim_user(user: &Value) -> Value {
    let mut doc = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user["id"],
        "userName": user["user_name"],
        "active": user["active"],
    });
    let name: serde_json::Map<String, Value> = [("givenName", "given_name"), ("familyName", "family_name")]
        .into_iter()
        .filter(|(_, k)| user[*k].is_string())
        .map(|(scim, k)| (scim.to_owned(), user[k].clone()))
        .collect();
    if !name.is_empty() {
        doc["name"] = Value::Object(name);
    }
    for (scim, k) in [("externalId", "external_id"), ("displayName", "display_name")] {
        if user[k].is_string() {
            doc[scim] = user[k].clone();
        }
    }
    if user["email"].is_string() {
        doc["emails"] = json!([{ "value": user["email"], "primary": true }]);
    }
    doc
}

/// The Group as a SCIM representation (RFC 7643 §4.2), from the feed's shape of a group (`GroupView`); the
/// feed's group events do not carry its members (`group.membership_changed` does).
pub fn scim_group(group: &Value) -> Value {
    let mut doc = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": group["id"],
        "displayName": group["display_name"],
    });
    if group["external_id"].is_string() {
        doc["externalId"] = group["external_id"].clone();
    }
    doc
}

/// The PatchOp (RFC 7644 §3.5.2) equivalent to a membership change: what `prov:patch:full` carries as
/// `data` (RFC 9967 §2.4.2, Figure 6).
fn membership_patch(data: &Value) -> Value {
    let ids = |k: &str| -> Vec<String> {
        data[k]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let mut ops = Vec::new();
    let added = ids("added");
    if !added.is_empty() {
        let value: Vec<Value> = added.iter().map(|id| json!({ "value": id })).collect();
        ops.push(json!({ "op": "add", "path": "members", "value": value }));
    }
    for id in ids("removed") {
        ops.push(json!({ "op": "remove", "path": format!("members[value eq \"{id}\"]") }));
    }
    json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops })
}

/// The attributes a `notice` lists: those the resource has (the feed keeps no list of what a change touched).
fn attributes(doc: &Value) -> Value {
    let names: Vec<&str> = doc
        .as_object()
        .map(|o| o.keys().map(String::as_str).filter(|k| *k != "schemas").collect())
        .unwrap_or_default();
    json!(names)
}

fn version(data: &Value) -> Value {
    json!(format!("W/\"{}\"", data["version"].as_i64().unwrap_or(0)))
}

/// `prov:<kind>:full` or `:notice`, whichever the stream delivers (full first).
fn full_or_notice(
    delivered: &[String],
    (full, notice): (&'static str, &'static str),
    data: &Value,
    subject: SubjectKind,
) -> Option<Planned> {
    let has = |uri: &str| delivered.iter().any(|d| d == uri);
    let doc = if subject == SubjectKind::ScimGroup {
        scim_group(&data["group"])
    } else {
        scim_user(&data["user"])
    };
    let (event_type, payload) = if has(full) {
        (full, json!({ "data": doc, "version": version(data) }))
    } else if has(notice) {
        (
            notice,
            json!({ "attributes": attributes(&doc), "version": version(data) }),
        )
    } else {
        return None;
    };
    Some(Planned {
        event_type,
        payload,
        subject,
    })
}

/// `prov:put:*` for an update the feed records as a PUT, `prov:patch:*` otherwise.
fn update_kind(data: &Value) -> (&'static str, &'static str) {
    if data["method"] == "put" {
        (PROV_PUT_FULL, PROV_PUT_NOTICE)
    } else {
        (PROV_PATCH_FULL, PROV_PATCH_NOTICE)
    }
}

/// CAEP §3.1's `initiating_entity` and `reason_admin` for a session that ended for `reason` (the feed's).
fn session_reason(reason: &str) -> (&'static str, &'static str) {
    match reason {
        "deprovisioned" => (
            "policy",
            "The member was deactivated or deleted by the organization's identity provider",
        ),
        "replaced_by_login" => ("user", "The member signed in again, which replaced this session"),
        _ => ("user", "The member signed out"),
    }
}

/// The SETs a feed event of `feed_type` with `data` makes for a stream delivering `delivered`, in order;
/// `at` is the event's time (seconds since the epoch).
pub fn plan(feed_type: &str, data: &Value, at: i64, delivered: &[String]) -> Vec<Planned> {
    use scimd_store::models::events::types as t;
    let has = |uri: &str| delivered.iter().any(|d| d == uri);
    let account = |event_type: &'static str| Planned {
        event_type,
        payload: json!({}),
        subject: SubjectKind::Account,
    };
    let scim = |event_type: &'static str| Planned {
        event_type,
        payload: json!({}),
        subject: SubjectKind::Scim,
    };
    let create = (PROV_CREATE_FULL, PROV_CREATE_NOTICE);
    let mut out = Vec::new();
    match feed_type {
        t::USER_CREATED => out.extend(full_or_notice(delivered, create, data, SubjectKind::Scim)),
        t::USER_UPDATED => out.extend(full_or_notice(
            delivered,
            update_kind(data),
            data,
            SubjectKind::Scim,
        )),
        t::GROUP_CREATED => out.extend(full_or_notice(delivered, create, data, SubjectKind::ScimGroup)),
        t::GROUP_UPDATED => out.extend(full_or_notice(
            delivered,
            update_kind(data),
            data,
            SubjectKind::ScimGroup,
        )),
        t::GROUP_MEMBERSHIP_CHANGED => {
            let payload = if has(PROV_PATCH_FULL) {
                Some((
                    PROV_PATCH_FULL,
                    json!({ "data": membership_patch(data), "version": version(data) }),
                ))
            } else if has(PROV_PATCH_NOTICE) {
                Some((
                    PROV_PATCH_NOTICE,
                    json!({ "attributes": ["members"], "version": version(data) }),
                ))
            } else {
                None
            };
            out.extend(payload.map(|(event_type, payload)| Planned {
                event_type,
                payload,
                subject: SubjectKind::ScimGroup,
            }));
        }
        t::GROUP_DELETED if has(PROV_DELETE) => out.push(Planned {
            event_type: PROV_DELETE,
            payload: json!({}),
            subject: SubjectKind::ScimGroup,
        }),
        t::USER_ROLES_CHANGED if has(TOKEN_CLAIMS_CHANGE) => out.push(Planned {
            event_type: TOKEN_CLAIMS_CHANGE,
            // CAEP §3.2: `claims` holds the changed claims' new values: the effective roles, as the ID
            // tokens' `roles` claim (scope `roles`) carries them.
            payload: json!({ "event_timestamp": at, "claims": { "roles": data["roles"] } }),
            subject: SubjectKind::Account,
        }),
        t::USER_DEACTIVATED | t::USER_REACTIVATED | t::USER_DELETED => {
            let (risc, prov) = match feed_type {
                t::USER_DEACTIVATED => (ACCOUNT_DISABLED, PROV_DEACTIVATE),
                t::USER_REACTIVATED => (ACCOUNT_ENABLED, PROV_ACTIVATE),
                _ => (ACCOUNT_PURGED, PROV_DELETE),
            };
            if has(risc) {
                out.push(account(risc));
            }
            if has(prov) {
                out.push(scim(prov));
            }
        }
        t::SESSION_REVOKED if has(SESSION_REVOKED) => {
            let (initiating_entity, reason) = session_reason(data["reason"].as_str().unwrap_or(""));
            out.push(Planned {
                event_type: SESSION_REVOKED,
                payload: json!({
                    "event_timestamp": at,
                    "initiating_entity": initiating_entity,
                    "reason_admin": { "en": reason },
                }),
                subject: SubjectKind::Account,
            });
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        SUPPORTED.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_deactivation_is_a_risc_event_and_a_scim_event_when_both_are_asked_for() {
        let data =
            json!({"id": "u1", "version": 3, "user": {"id": "u1", "user_name": "a@x", "active": false}});
        let planned = plan("user.deactivated", &data, 0, &all());
        let types: Vec<_> = planned.iter().map(|p| p.event_type).collect();
        assert_eq!(types, [ACCOUNT_DISABLED, PROV_DEACTIVATE]);
        let only_risc = plan("user.deactivated", &data, 0, &[ACCOUNT_DISABLED.to_owned()]);
        assert_eq!(only_risc.len(), 1);
    }

    #[test]
    fn full_wins_over_notice_and_carries_the_scim_user() {
        let data = json!({"id": "u1", "version": 1, "user": {"id": "u1", "user_name": "a@x", "active": true,
            "given_name": "Ada", "family_name": null, "email": "a@x"}});
        let planned = plan("user.created", &data, 0, &all());
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].event_type, PROV_CREATE_FULL);
        let doc = &planned[0].payload["data"];
        assert_eq!(doc["userName"], "a@x");
        assert_eq!(doc["name"], json!({"givenName": "Ada"}));
        assert!(planned[0].payload.get("attributes").is_none());
        let notice = plan("user.created", &data, 0, &[PROV_CREATE_NOTICE.to_owned()]);
        assert!(
            notice[0].payload["attributes"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        );
        assert!(notice[0].payload.get("data").is_none());
    }

    #[test]
    fn a_put_and_a_patch_are_told_apart_and_groups_have_their_own_subject() {
        let user =
            json!({"id": "u1", "version": 2, "method": "put", "user": {"id": "u1", "user_name": "a@x"}});
        assert_eq!(
            plan("user.updated", &user, 0, &all())[0].event_type,
            PROV_PUT_FULL
        );
        let old = json!({"id": "u1", "version": 2, "user": {"id": "u1", "user_name": "a@x"}});
        assert_eq!(
            plan("user.updated", &old, 0, &all())[0].event_type,
            PROV_PATCH_FULL
        );
        let group = json!({"id": "g1", "version": 3, "method": "patch",
            "group": {"id": "g1", "display_name": "Eng", "external_id": null}});
        let planned = plan("group.updated", &group, 0, &[PROV_PATCH_NOTICE.to_owned()]);
        assert_eq!(planned[0].subject, SubjectKind::ScimGroup);
        assert!(
            planned[0].payload["attributes"]
                .as_array()
                .is_some_and(|a| a.contains(&json!("displayName")))
        );
        let members = json!({"id": "g1", "version": 4, "added": ["u1"], "removed": ["u2"]});
        let planned = plan("group.membership_changed", &members, 0, &all());
        assert_eq!(planned[0].event_type, PROV_PATCH_FULL);
        let ops = &planned[0].payload["data"]["Operations"];
        assert_eq!(
            ops[0],
            json!({"op": "add", "path": "members", "value": [{"value": "u1"}]})
        );
        assert_eq!(
            ops[1],
            json!({"op": "remove", "path": "members[value eq \"u2\"]"})
        );
    }

    #[test]
    fn a_roles_change_is_a_token_claims_change_with_the_roles_after_it() {
        let data = json!({"id": "u1", "roles": ["member", "deployer"], "added": ["deployer"], "removed": []});
        let planned = plan("user.roles_changed", &data, 7, &all());
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].event_type, TOKEN_CLAIMS_CHANGE);
        assert_eq!(planned[0].subject, SubjectKind::Account);
        assert_eq!(
            planned[0].payload,
            json!({"event_timestamp": 7, "claims": {"roles": ["member", "deployer"]}})
        );
    }

    #[test]
    fn unknown_requests_are_ignored_and_feed_types_follow_what_is_delivered() {
        let asked = vec!["urn:example:nothing".to_owned(), ACCOUNT_PURGED.to_owned()];
        assert_eq!(delivered(&asked), [ACCOUNT_PURGED]);
        assert_eq!(feed_types(&delivered(&asked)), ["user.deleted"]);
    }
}
