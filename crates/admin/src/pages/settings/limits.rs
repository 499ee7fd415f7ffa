//! The SCIM API's per-org limits and the owner-link setting on the SSO page: the card (the sustained rate,
//! the burst and the requests in flight, each the server's default unless the org set its own; whether SCIM
//! may link the org's owner) and its form. A blank limit means the server's default. A refused form comes
//! back with 422, each error next to its field and the values as typed. A change is audited and the SCIM API
//! applies it within seconds (its limits are cached briefly).

use crate::error::AdminError;
use crate::session::{Authed, Posted};
use actix_web::HttpResponse;
use scimd_store::StoreError;
use scimd_store::models::org_limits::{self, LimitsChange};
use scimd_store::models::owner_link;
use serde::Deserialize;

/// The largest limit the form accepts: far above any IdP's rate, small enough to stay a plain number.
pub const MAX_LIMIT: i32 = 1_000_000;

/// One limit as the card shows it.
#[derive(Debug, Clone)]
pub struct LimitField {
    /// The org's own value, if it set one.
    pub own: Option<i32>,
    /// What applies: the org's own value or the default.
    pub effective: u32,
    pub default: u32,
    /// The form's value: as saved (blank for the default), or as typed after a refusal.
    pub value: String,
    pub error: Option<String>,
}

impl LimitField {
    fn new(own: Option<i32>, default: u32) -> LimitField {
        LimitField {
            own,
            effective: own.and_then(|v| u32::try_from(v).ok()).unwrap_or(default),
            default,
            value: own.map(|v| v.to_string()).unwrap_or_default(),
            error: None,
        }
    }
}

/// The card's contents.
#[derive(Debug, Clone)]
pub struct LimitsSection {
    pub rate: LimitField,
    pub burst: LimitField,
    pub in_flight: LimitField,
    /// As saved, and the form's checkbox (as typed after a refusal).
    pub saved_owner_link: bool,
    pub owner_link: bool,
    /// Whether SCIM may change an owner's or admin's userName or externalId (review 3, L-10): as saved, and
    /// the form's checkbox.
    pub saved_identity_changes: bool,
    pub identity_changes: bool,
    pub error_count: usize,
}

impl LimitsSection {
    /// The three limits with their form names and labels, in the form's order.
    pub fn fields(&self) -> [(&'static str, &'static str, &LimitField); 3] {
        [
            ("rate", "Sustained rate (requests a second)", &self.rate),
            ("burst", "Burst (requests)", &self.burst),
            ("in_flight", "Requests at once", &self.in_flight),
        ]
    }

    pub async fn load(session: &Authed) -> Result<LimitsSection, AdminError> {
        let org = session.info.org_id.clone();
        let defaults = session.state.limit_defaults;
        let (own, owner_link, identity_changes) = session
            .state
            .store
            .read_async(move |conn| {
                Ok::<_, StoreError>((
                    org_limits::get(conn, &org)?,
                    owner_link::allowed(conn, &org)?,
                    owner_link::privileged_identity_changes_allowed(conn, &org)?,
                ))
            })
            .await?;
        let own = own.as_ref();
        Ok(LimitsSection {
            rate: LimitField::new(own.and_then(|o| o.rate), defaults.rate),
            burst: LimitField::new(own.and_then(|o| o.burst), defaults.burst),
            in_flight: LimitField::new(own.and_then(|o| o.in_flight), defaults.in_flight),
            saved_owner_link: owner_link,
            owner_link,
            saved_identity_changes: identity_changes,
            identity_changes,
            error_count: 0,
        })
    }
}

#[derive(Deserialize)]
pub struct LimitsForm {
    #[serde(default)]
    rate: String,
    #[serde(default)]
    burst: String,
    #[serde(default)]
    in_flight: String,
    /// A checkbox: present ("on") when checked, absent otherwise.
    owner_link: Option<String>,
    /// A checkbox, as `owner_link`.
    identity_changes: Option<String>,
}

/// A blank field is the default (`None`); otherwise a whole number from 1 to [`MAX_LIMIT`].
fn parse_limit(text: &str) -> Result<Option<i32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i32>()
        .ok()
        .filter(|v| (1..=MAX_LIMIT).contains(v))
        .map(Some)
        .ok_or_else(|| format!("A whole number from 1 to {MAX_LIMIT}, or blank for the default."))
}

/// `POST /admin/orgs/{org}/limits`: saves the three limits (blank: the default), the owner-link setting and
/// whether SCIM may change a privileged member's identity.
pub async fn limits_post(posted: Posted<LimitsForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let owner_link = form.owner_link.is_some();
    let identity_changes = form.identity_changes.is_some();
    let (rate, burst, in_flight) = (
        parse_limit(&form.rate),
        parse_limit(&form.burst),
        parse_limit(&form.in_flight),
    );
    let change = match (&rate, &burst, &in_flight) {
        (Ok(rate), Ok(burst), Ok(in_flight)) => LimitsChange {
            rate: *rate,
            burst: *burst,
            in_flight: *in_flight,
        },
        _ => {
            return super::refused(&session, |cards| {
                let card = &mut cards.limits;
                for (field, typed, parsed) in [
                    (&mut card.rate, form.rate, rate),
                    (&mut card.burst, form.burst, burst),
                    (&mut card.in_flight, form.in_flight, in_flight),
                ] {
                    field.value = typed;
                    field.error = parsed.err();
                    card.error_count += usize::from(field.error.is_some());
                }
                card.owner_link = owner_link;
                card.identity_changes = identity_changes;
            })
            .await;
        }
    };
    super::save_card(
        &session,
        "limits_saved",
        "limits",
        move |conn, org, actor, now| {
            org_limits::replace(conn, org, actor, change, now)?;
            if owner_link::allowed(conn, org)? != owner_link {
                owner_link::set_allowed(conn, org, actor, owner_link, now)?;
            }
            if owner_link::privileged_identity_changes_allowed(conn, org)? != identity_changes {
                owner_link::set_privileged_identity_changes_allowed(conn, org, actor, identity_changes, now)?;
            }
            Ok(())
        },
    )
    .await
}
