//! The protocol checks (S10–S16) and the claims, read only from the verified Assertion node and the
//! Response root that holds it (S8): Issuer, Status, Destination, the bearer SubjectConfirmation (Recipient,
//! NotOnOrAfter, InResponseTo, no NotBefore), Conditions (times with skew, Audience, nothing unknown),
//! an AuthnStatement, and the identity attributes. [`VerifiedAssertion`] is what the caller gets.

use super::names::{
    ASSERTION, ATTR_EMAILS, ATTR_OBJECT_ID, ATTR_TENANT_ID, CM_BEARER, NAMEID_ENTITY, PROTOCOL,
    STATUS_SUCCESS,
};
use super::signature::{CertificateSlot, Verified};
use super::structure::Layout;
use super::xml::{attr, child_elements, children_named, describe, is, optional_child, required_child, text};
use super::{SamlError, SpConfig};
use bergshamra_xml::uppsala::{Document, NodeId};
use chrono::{DateTime, TimeDelta, Utc};

/// How old a Response or Assertion `IssueInstant` may be. Entra's bearer confirmation lasts about 5 minutes;
/// anything older than this (plus skew) has been sitting somewhere.
const MAX_MESSAGE_AGE: TimeDelta = TimeDelta::minutes(10);

/// What the ACS expects, from the pending request the browser's `RelayState` and cookie point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation<'a> {
    /// SP-initiated: the Response and the bearer confirmation must answer this AuthnRequest ID.
    Solicited(&'a str),
    /// No pending request: an IdP-initiated response, refused unless the connection allows them; if
    /// allowed, it must not carry InResponseTo.
    Unsolicited,
}

/// A verified, checked assertion: what the caller needs to finish the sign-in.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The Assertion's `ID`: insert `(org, assertion_id)` into the replay table (S15).
    pub assertion_id: String,
    /// Keep the replay entry at least until this instant: the later `NotOnOrAfter`, plus the skew.
    pub replay_keep_until: DateTime<Utc>,
    /// The Subject's NameID text (never log it).
    pub name_id: String,
    /// The NameID `Format`, when the IdP sent one.
    pub name_id_format: Option<String>,
    /// Entra's `objectidentifier` (the user's object ID): the identity key to prefer (S17).
    pub object_id: Option<String>,
    /// Entra's `tenantid`.
    pub tenant_id: Option<String>,
    /// An e-mail attribute, if sent. Not an identity key on its own (nOAuth).
    pub email: Option<String>,
    /// Cap scimd's session at this instant (S16).
    pub session_not_on_or_after: Option<DateTime<Utc>>,
    /// The AuthnStatement's `AuthnInstant`.
    pub authn_instant: DateTime<Utc>,
    /// The AuthnRequest ID this answers, `None` for an unsolicited response.
    pub in_response_to: Option<String>,
    /// Which pinned certificate verified it.
    pub certificate: CertificateSlot,
}

impl std::fmt::Debug for VerifiedAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedAssertion")
            .field("assertion_id", &self.assertion_id)
            .field("replay_keep_until", &self.replay_keep_until)
            .field("name_id", &"<redacted>")
            .field("name_id_format", &self.name_id_format)
            .field("object_id", &self.object_id.as_ref().map(|_| "<redacted>"))
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("session_not_on_or_after", &self.session_not_on_or_after)
            .field("authn_instant", &self.authn_instant)
            .field("in_response_to", &self.in_response_to)
            .field("certificate", &self.certificate)
            .finish()
    }
}

pub(crate) fn check(
    doc: &Document<'_>,
    layout: &Layout,
    verified: Verified,
    config: &SpConfig,
    expect: Expectation<'_>,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, SamlError> {
    let skew = config.clock_skew();
    let (response, assertion) = (layout.response, layout.assertion);

    // S11: a signed Response must name its Destination; any Destination must be this ACS.
    match attr(doc, response, "Destination") {
        Some(d) if d == config.acs_url() => {}
        Some(_) => return Err(SamlError::WrongDestination),
        None if verified.response_signed => return Err(SamlError::MissingDestination),
        None => {}
    }
    // S10: Issuers.
    if let Some(issuer) = optional_child(doc, response, ASSERTION, "Issuer", "two Response Issuers")? {
        check_issuer(doc, issuer, config)?;
    }
    check_issuer(
        doc,
        required_child(doc, assertion, ASSERTION, "Issuer", "Assertion Issuer")?,
        config,
    )?;
    check_status(doc, response)?;

    // S12: InResponseTo, solicited or not.
    let expected_irt = match expect {
        Expectation::Solicited(id) => Some(id),
        Expectation::Unsolicited if config.allow_unsolicited() => None,
        Expectation::Unsolicited => return Err(SamlError::Unsolicited),
    };
    if attr(doc, response, "InResponseTo") != expected_irt {
        return Err(SamlError::InResponseToMismatch);
    }

    // S13: issue instants.
    for node in [response, assertion] {
        let issued = instant(doc, node, "IssueInstant")?.ok_or(SamlError::Malformed("no IssueInstant"))?;
        if issued > now + skew || issued < now - skew - MAX_MESSAGE_AGE {
            return Err(SamlError::IssueInstant);
        }
    }

    let subject = required_child(doc, assertion, ASSERTION, "Subject", "Subject")?;
    let (name_id, name_id_format) = name_id(doc, subject)?;
    let bearer_until = bearer_confirmation(doc, subject, config, expected_irt, now)?;
    let conditions_until = conditions(doc, assertion, config, now)?;
    let (authn_instant, session_not_on_or_after) = authn_statement(doc, assertion)?;
    let attributes = Attributes::read(doc, assertion)?;

    let assertion_id = attr(doc, assertion, "ID").unwrap_or_default().to_owned();
    let latest = conditions_until.map_or(bearer_until, |c| c.max(bearer_until));
    Ok(VerifiedAssertion {
        assertion_id,
        replay_keep_until: latest + skew,
        name_id,
        name_id_format,
        object_id: attributes.object_id,
        tenant_id: attributes.tenant_id,
        email: attributes.email,
        session_not_on_or_after,
        authn_instant,
        in_response_to: expected_irt.map(str::to_owned),
        certificate: verified.slot,
    })
}

fn check_issuer(doc: &Document<'_>, issuer: NodeId, config: &SpConfig) -> Result<(), SamlError> {
    let format_ok = attr(doc, issuer, "Format").is_none_or(|f| f == NAMEID_ENTITY);
    if !format_ok || text(doc, issuer).as_deref() != Some(config.idp_entity_id()) {
        return Err(SamlError::WrongIssuer);
    }
    Ok(())
}

fn check_status(doc: &Document<'_>, response: NodeId) -> Result<(), SamlError> {
    let status = required_child(doc, response, PROTOCOL, "Status", "Status")?;
    let code = required_child(doc, status, PROTOCOL, "StatusCode", "StatusCode")?;
    match attr(doc, code, "Value") {
        Some(STATUS_SUCCESS) => Ok(()),
        other => {
            // The second-level code says why (e.g. RequestDenied); both are fixed URIs, safe to log.
            let sub = optional_child(doc, code, PROTOCOL, "StatusCode", "StatusCode")?
                .and_then(|s| attr(doc, s, "Value"))
                .map(|v| format!(" / {v}"))
                .unwrap_or_default();
            let status: String = format!("{}{sub}", other.unwrap_or("(none)"))
                .chars()
                .take(300)
                .collect();
            Err(SamlError::StatusNotSuccess { status })
        }
    }
}

fn name_id(doc: &Document<'_>, subject: NodeId) -> Result<(String, Option<String>), SamlError> {
    let node =
        optional_child(doc, subject, ASSERTION, "NameID", "two NameIDs")?.ok_or(SamlError::MissingNameId)?;
    let value = text(doc, node).ok_or(SamlError::MissingNameId)?;
    if value.trim().is_empty() {
        return Err(SamlError::MissingNameId);
    }
    Ok((value, attr(doc, node, "Format").map(str::to_owned)))
}

/// Exactly one bearer SubjectConfirmation, whose data names this ACS, has not expired, carries no
/// NotBefore (Profiles §4.1.4.2) and answers the expected request. Returns its NotOnOrAfter.
fn bearer_confirmation(
    doc: &Document<'_>,
    subject: NodeId,
    config: &SpConfig,
    expected_irt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, SamlError> {
    let bearers: Vec<NodeId> = children_named(doc, subject, ASSERTION, "SubjectConfirmation")
        .into_iter()
        .filter(|&c| attr(doc, c, "Method") == Some(CM_BEARER))
        .collect();
    let [bearer] = bearers.as_slice() else {
        return Err(SamlError::NoBearerConfirmation);
    };
    let data = optional_child(
        doc,
        *bearer,
        ASSERTION,
        "SubjectConfirmationData",
        "SubjectConfirmationData",
    )?
    .ok_or(SamlError::NoBearerConfirmation)?;
    if attr(doc, data, "Recipient") != Some(config.acs_url()) {
        return Err(SamlError::WrongRecipient);
    }
    if attr(doc, data, "NotBefore").is_some() {
        return Err(SamlError::Malformed(
            "bearer SubjectConfirmationData carries NotBefore",
        ));
    }
    if attr(doc, data, "InResponseTo") != expected_irt {
        return Err(SamlError::InResponseToMismatch);
    }
    let until =
        instant(doc, data, "NotOnOrAfter")?.ok_or(SamlError::Malformed("bearer has no NotOnOrAfter"))?;
    if now - config.clock_skew() >= until {
        return Err(SamlError::Expired);
    }
    Ok(until)
}

/// Conditions: the validity window with skew, at least one AudienceRestriction, each naming this SP, and
/// no condition this SP does not understand. Returns NotOnOrAfter, if given.
fn conditions(
    doc: &Document<'_>,
    assertion: NodeId,
    config: &SpConfig,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, SamlError> {
    let skew = config.clock_skew();
    let conditions = required_child(doc, assertion, ASSERTION, "Conditions", "Conditions")?;
    if let Some(not_before) = instant(doc, conditions, "NotBefore")?
        && not_before > now + skew
    {
        return Err(SamlError::NotYetValid);
    }
    let not_on_or_after = instant(doc, conditions, "NotOnOrAfter")?;
    if let Some(until) = not_on_or_after
        && now - skew >= until
    {
        return Err(SamlError::Expired);
    }
    let mut restrictions = 0;
    for child in child_elements(doc, conditions) {
        if is(doc, child, ASSERTION, "AudienceRestriction") {
            restrictions += 1;
            let names_us = children_named(doc, child, ASSERTION, "Audience")
                .into_iter()
                .any(|a| text(doc, a).as_deref() == Some(config.sp_entity_id()));
            if !names_us {
                return Err(SamlError::WrongAudience);
            }
        } else if !(is(doc, child, ASSERTION, "OneTimeUse") || is(doc, child, ASSERTION, "ProxyRestriction"))
        {
            // OneTimeUse is met by the replay table; scimd never proxies, so ProxyRestriction is moot.
            return Err(SamlError::UnknownCondition(describe(doc, child)));
        }
    }
    if restrictions == 0 {
        return Err(SamlError::WrongAudience);
    }
    Ok(not_on_or_after)
}

fn authn_statement(
    doc: &Document<'_>,
    assertion: NodeId,
) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), SamlError> {
    let statements = children_named(doc, assertion, ASSERTION, "AuthnStatement");
    let Some(&first) = statements.first() else {
        return Err(SamlError::MissingAuthnStatement);
    };
    let authn_instant =
        instant(doc, first, "AuthnInstant")?.ok_or(SamlError::Malformed("no AuthnInstant"))?;
    let mut session_end: Option<DateTime<Utc>> = None;
    for statement in statements {
        if let Some(end) = instant(doc, statement, "SessionNotOnOrAfter")? {
            session_end = Some(session_end.map_or(end, |s| s.min(end)));
        }
    }
    Ok((authn_instant, session_end))
}

#[derive(Default)]
struct Attributes {
    object_id: Option<String>,
    tenant_id: Option<String>,
    email: Option<String>,
}

impl Attributes {
    fn read(doc: &Document<'_>, assertion: NodeId) -> Result<Self, SamlError> {
        let mut out = Self::default();
        for statement in children_named(doc, assertion, ASSERTION, "AttributeStatement") {
            for attribute in children_named(doc, statement, ASSERTION, "Attribute") {
                let name = attr(doc, attribute, "Name").unwrap_or_default();
                let slot = if name == ATTR_OBJECT_ID {
                    &mut out.object_id
                } else if name == ATTR_TENANT_ID {
                    &mut out.tenant_id
                } else if ATTR_EMAILS.contains(&name) {
                    &mut out.email
                } else {
                    continue;
                };
                let values = children_named(doc, attribute, ASSERTION, "AttributeValue");
                let [value] = values.as_slice() else {
                    return Err(SamlError::AmbiguousAttribute);
                };
                let value = text(doc, *value).ok_or(SamlError::AmbiguousAttribute)?;
                if slot.is_some() {
                    return Err(SamlError::AmbiguousAttribute);
                }
                *slot = Some(value.trim().to_owned());
            }
        }
        Ok(out)
    }
}

/// An xs:dateTime attribute in UTC (`Z`), as SAML Core §1.3.3 requires.
fn instant(doc: &Document<'_>, node: NodeId, name: &str) -> Result<Option<DateTime<Utc>>, SamlError> {
    let Some(value) = attr(doc, node, name) else {
        return Ok(None);
    };
    if !value.ends_with('Z') {
        return Err(SamlError::Malformed("a time is not in UTC"));
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| SamlError::Malformed("a time does not parse"))
}
