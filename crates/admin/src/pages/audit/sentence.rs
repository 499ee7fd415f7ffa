//! An audit event as a sentence an admin reads ("Okta (SCIM token …xc4i) deactivated alice@demo.example"),
//! its actor and target linked to their pages: a member to its page, a group to its page, a SCIM token to the
//! SCIM section. The event's raw fields stay beside it, for whoever needs the exact record.

use scimd_store::models::audit_events::AuditEvent;
use serde_json::Value;
use std::collections::HashMap;

/// A piece of a sentence: plain text, or a link to what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub text: String,
    pub href: Option<String>,
}

fn link(text: String, href: String) -> Part {
    Part {
        text,
        href: Some(href),
    }
}

/// What the sentences need to name members and groups, looked up once per page.
#[derive(Debug, Default)]
pub struct Names {
    /// `/admin/orgs/{org}`, the start of every link.
    pub base: String,
    /// Member id -> email (or userName).
    pub members: HashMap<String, String>,
    /// Group id -> display name.
    pub groups: HashMap<String, String>,
}

impl Names {
    /// The member ids and group ids these events name (actors and targets), to look up.
    pub fn wanted(events: &[AuditEvent]) -> (Vec<String>, Vec<String>) {
        let mut members = Vec::new();
        let mut groups = Vec::new();
        for e in events {
            if let Some(id) = e.actor.strip_prefix("member:") {
                members.push(id.to_owned());
            }
            match (target_kind(&e.action), &e.target) {
                (TargetKind::Member, Some(t)) => members.push(t.clone()),
                (TargetKind::Group, Some(t)) => groups.push(t.clone()),
                _ => {}
            }
        }
        for list in [&mut members, &mut groups] {
            list.sort();
            list.dedup();
        }
        (members, groups)
    }

    fn member(&self, id: &str) -> Part {
        match self.members.get(id) {
            Some(label) => link(
                label.clone(),
                format!("{}/members/{}", self.base, crate::view::urlencode(id)),
            ),
            None => text("a member no longer in the directory"),
        }
    }

    fn group(&self, id: &str, details: &Value) -> Part {
        match self.groups.get(id) {
            Some(name) => link(
                name.clone(),
                format!("{}/groups/{}", self.base, crate::view::urlencode(id)),
            ),
            None => text(
                details["displayName"]
                    .as_str()
                    .map_or_else(|| "a deleted group".to_owned(), str::to_owned),
            ),
        }
    }

    fn scim_token(&self, hint: &str) -> Part {
        link(
            format!("SCIM token {}", short_hint(hint)),
            format!("{}/sso#scim", self.base),
        )
    }
}

/// What an action's target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    Member,
    Group,
    Token,
    Other,
}

fn target_kind(action: &str) -> TargetKind {
    if action.starts_with("member.")
        || matches!(
            action,
            "admin.login" | "admin.logout" | "admin.login_link_issued" | "sso.signin_refused"
        )
    {
        TargetKind::Member
    } else if action.starts_with("group.") {
        TargetKind::Group
    } else if action.starts_with("token.") {
        TargetKind::Token
    } else {
        TargetKind::Other
    }
}

/// `scimd_…xc4i` -> `…xc4i`: the token's prefix says nothing to an admin.
fn short_hint(hint: &str) -> String {
    match hint.find('…') {
        Some(at) => hint[at..].to_owned(),
        None => hint.to_owned(),
    }
}

/// Who the IdP is, from the dialect rules its request needed (Okta's and Entra's are named after them).
fn idp_name(details: &Value) -> &'static str {
    let dialects: Vec<&str> = details["dialects"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if dialects.iter().any(|d| d.starts_with("Okta")) {
        "Okta"
    } else if dialects.iter().any(|d| d.starts_with("Entra")) {
        "Entra ID"
    } else {
        "Your identity provider"
    }
}

fn text(s: impl Into<String>) -> Part {
    Part {
        text: s.into(),
        href: None,
    }
}

/// The actor as the subject of the sentence.
fn actor(e: &AuditEvent, details: &Value, names: &Names) -> Vec<Part> {
    if let Some(id) = e.actor.strip_prefix("member:") {
        return vec![names.member(id)];
    }
    if let Some(hint) = e.actor.strip_prefix("idp:") {
        return vec![
            text(format!("{} (", idp_name(details))),
            names.scim_token(hint),
            text(")"),
        ];
    }
    vec![text(match e.actor.as_str() {
        "cli" => "The command line",
        "system" => "scimd",
        "bootstrap" => "scimd, on its first start,",
        "idp" => "Your identity provider",
        "anonymous" => "An unknown browser",
        other => other,
    })]
}

/// The list of changed attribute names in `details.changed`, if any.
fn changed(details: &Value) -> Option<String> {
    let names: Vec<&str> = details["changed"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// The event as a sentence.
pub fn sentence(e: &AuditEvent, names: &Names) -> Vec<Part> {
    let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
    let str_of = |k: &str| details[k].as_str().unwrap_or("").to_owned();
    let target = || -> Part {
        let Some(t) = e.target.as_deref() else {
            return text("the organization");
        };
        match target_kind(&e.action) {
            TargetKind::Member => names.member(t),
            TargetKind::Group => names.group(t, &details),
            TargetKind::Token => {
                let hint = str_of("hint");
                if hint.is_empty() {
                    text("a SCIM token")
                } else {
                    names.scim_token(&hint)
                }
            }
            TargetKind::Other => text(t),
        }
    };
    let mut out = actor(e, &details, names);
    let mut say = |parts: Vec<Part>| out.extend(parts);
    match e.action.as_str() {
        "member.created" => say(vec![text(" provisioned "), target()]),
        "member.linked" => say(vec![text(" linked "), target(), text(" to its SCIM identity")]),
        "member.updated" => {
            say(vec![text(" updated "), target()]);
            if let Some(c) = changed(&details) {
                say(vec![text(format!(" ({c})"))]);
            }
        }
        "member.deactivated" => say(vec![text(" deactivated "), target()]),
        "member.reactivated" => say(vec![text(" reactivated "), target()]),
        "member.deleted" => say(vec![text(" deleted "), target()]),
        "member.deprovision_refused" => say(vec![
            text(format!(" tried to {} ", str_of("attempted"))),
            target(),
            text(", the organization's last active owner: refused"),
        ]),
        "member.privileged_identity_changed" => say(vec![text(" changed the identity of "), target()]),
        "member.privileged_identity_change_refused" => say(vec![
            text(" tried to change the identity of "),
            target(),
            text(" (an owner or admin): refused"),
        ]),
        "group.created" => say(vec![text(" created the group "), target()]),
        "group.updated" => {
            say(vec![text(" updated the group "), target()]);
            let added = details["members_added"].as_u64().unwrap_or(0);
            let removed = details["members_removed"].as_u64().unwrap_or(0);
            if added + removed > 0 {
                say(vec![text(format!(" (+{added} / −{removed} members)"))]);
            }
        }
        "group.deleted" => say(vec![text(" deleted the group "), target()]),
        "token.generated" => say(vec![text(" generated "), target()]),
        "token.regenerated" => say(vec![
            text(" regenerated the SCIM token: the new one is "),
            target(),
        ]),
        "token.revoked" => say(vec![text(" revoked "), target()]),
        "token.expired" => say(vec![text(": "), target(), text(" expired")]),
        "sso.saml_set" => say(vec![text(" set the SAML SSO connection")]),
        "sso.azure_set" => say(vec![text(" set the Entra ID (Azure AD) SSO connection")]),
        "sso.removed" => say(vec![text(" removed the SSO connection and its SCIM tokens")]),
        "admin.login_link_issued" => say(vec![text(" issued a login link for "), target()]),
        "admin.login" => say(vec![text(" signed in")]),
        "admin.logout" => say(vec![text(match str_of("reason").as_str() {
            "" | "logout" => " signed out".to_owned(),
            reason => format!(" had a session ended ({reason})"),
        })]),
        "sso.signin_refused" => {
            say(vec![text(": a sign-in")]);
            if e.target.is_some() {
                say(vec![text(" of "), target()]);
            }
            say(vec![text(format!(" was refused ({})", str_of("reason")))]);
        }
        "safety_valve.tripped" => say(vec![text(": the safety valve put deprovisioning on hold")]),
        "safety_valve.released" => say(vec![text(" released the hold on deprovisioning")]),
        "safety_valve.configured" => say(vec![text(" changed the safety valve's settings")]),
        "org.created" => say(vec![text(format!(
            " created the organization {}",
            str_of("name")
        ))]),
        "org.limits_configured" => say(vec![text(" changed the SCIM API's limits")]),
        "org.owner_link_configured" => say(vec![text(" changed whether SCIM may link the owner")]),
        "org.privileged_identity_configured" => say(vec![text(
            " changed whether SCIM may change an owner's or admin's identity",
        )]),
        "webhook.created" => say(vec![text(format!(
            " added the webhook endpoint {}",
            str_of("url")
        ))]),
        "webhook.deleted" => say(vec![text(format!(
            " deleted the webhook endpoint {}",
            str_of("url")
        ))]),
        "webhook.replayed" => say(vec![text(" replayed events to a webhook endpoint")]),
        other => {
            say(vec![text(format!(" did {other}"))]);
            if e.target.is_some() {
                say(vec![text(" to "), target()]);
            }
        }
    }
    // A sentence starts with a capital, whatever its subject (but scimd keeps its name).
    if let Some(first) = out.first_mut()
        && first.href.is_none()
        && !first.text.starts_with("scimd")
        && let Some(c) = first.text.chars().next()
    {
        first.text = c.to_uppercase().chain(first.text.chars().skip(1)).collect();
    }
    out
}

/// The sentence as plain text (the export's column).
pub fn plain(parts: &[Part]) -> String {
    parts.iter().map(|p| p.text.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(actor: &str, action: &str, target: Option<&str>, details: &str) -> AuditEvent {
        AuditEvent {
            seq: 1,
            id: "e".into(),
            org_id: "o".into(),
            occurred_at: chrono::NaiveDateTime::default(),
            actor: actor.into(),
            action: action.into(),
            target: target.map(str::to_owned),
            details: details.into(),
        }
    }

    fn names() -> Names {
        Names {
            base: "/admin/orgs/o".into(),
            members: [("m1".to_owned(), "alice@demo.example".to_owned())].into(),
            groups: [("g1".to_owned(), "Engineering".to_owned())].into(),
        }
    }

    #[test]
    fn an_okta_deactivation_reads_as_a_sentence_with_links() {
        let e = event(
            "idp:scimd_…xc4i",
            "member.deactivated",
            Some("m1"),
            r#"{"dialects":["Okta path-less replace"]}"#,
        );
        let parts = sentence(&e, &names());
        assert_eq!(
            plain(&parts),
            "Okta (SCIM token …xc4i) deactivated alice@demo.example"
        );
        assert!(parts.contains(&link(
            "alice@demo.example".into(),
            "/admin/orgs/o/members/m1".into()
        )));
        assert!(parts.contains(&link("SCIM token …xc4i".into(), "/admin/orgs/o/sso#scim".into())));
    }

    #[test]
    fn groups_link_and_unknown_members_are_named_without_a_link() {
        let e = event("member:gone", "group.created", Some("g1"), "{}");
        let parts = sentence(&e, &names());
        assert_eq!(
            plain(&parts),
            "A member no longer in the directory created the group Engineering"
        );
        assert!(
            parts
                .iter()
                .any(|p| p.href.as_deref() == Some("/admin/orgs/o/groups/g1"))
        );
    }
}
