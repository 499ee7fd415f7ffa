//! The deprovisioning safety valve on the SSO page: its card (on/off, share and minimum, this hour's count
//! against the threshold), the settings form, and the release of a hold. The hold banner itself is part of
//! every page's frame (`view::Page::hold`). A refused settings form comes back with 422, each error next to
//! its field and the values as typed.

use crate::error::AdminError;
use crate::session::EmptyForm;
use crate::session::{Authed, Posted};
use crate::view::see_other;
use actix_web::HttpResponse;
use scimd_store::models::safety_valve::{self, ValveStatus};
use serde::Deserialize;

/// The largest minimum the form accepts: larger than any org, small enough to stay a plain number.
const MAX_MIN: i32 = 1_000_000;

/// The card's contents.
#[derive(Debug, Clone)]
pub struct ValveSection {
    /// As saved: the status pill and the read-only summary say this.
    pub saved_enabled: bool,
    pub saved_percent: i32,
    pub saved_min: i32,
    pub held: bool,
    pub deprovisioned_in_window: i64,
    pub threshold: i64,
    /// The form's values: as saved, or as typed after a refusal.
    pub enabled: bool,
    pub percent: String,
    pub min: String,
    pub errors: ValveErrors,
}

#[derive(Debug, Clone, Default)]
pub struct ValveErrors {
    pub percent: Option<String>,
    pub min: Option<String>,
    pub count: usize,
}

impl ValveSection {
    fn new(status: &ValveStatus) -> ValveSection {
        let s = &status.settings;
        ValveSection {
            saved_enabled: s.safety_valve_enabled,
            saved_percent: s.safety_valve_percent,
            saved_min: s.safety_valve_min,
            held: status.held,
            deprovisioned_in_window: status.deprovisioned_in_window,
            threshold: status.threshold,
            enabled: s.safety_valve_enabled,
            percent: s.safety_valve_percent.to_string(),
            min: s.safety_valve_min.to_string(),
            errors: ValveErrors::default(),
        }
    }

    pub async fn load(session: &Authed) -> Result<ValveSection, AdminError> {
        let org = session.info.org_id.clone();
        let now = session.state.clock.now_naive();
        let status = session
            .state
            .store
            .read_async(move |conn| safety_valve::status(conn, &org, now))
            .await?;
        Ok(ValveSection::new(&status))
    }
}

#[derive(Deserialize)]
pub struct ValveForm {
    /// A checkbox: present ("on") when checked, absent otherwise.
    enabled: Option<String>,
    #[serde(default)]
    percent: String,
    #[serde(default)]
    min: String,
}

/// The form's numbers, or what is wrong with them.
fn validate(form: &ValveForm) -> Result<(i32, i32), ValveErrors> {
    let percent = form
        .percent
        .trim()
        .trim_end_matches('%')
        .trim_end()
        .parse::<i32>()
        .ok()
        .filter(|p| (1..=100).contains(p));
    let min = form
        .min
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|m| (1..=MAX_MIN).contains(m));
    match (percent, min) {
        (Some(percent), Some(min)) => Ok((percent, min)),
        (percent, min) => {
            let errors = ValveErrors {
                percent: percent
                    .is_none()
                    .then(|| "The share must be a whole number from 1 to 100.".to_owned()),
                min: min
                    .is_none()
                    .then(|| format!("The minimum must be a whole number from 1 to {MAX_MIN}.")),
                count: usize::from(percent.is_none()) + usize::from(min.is_none()),
            };
            Err(errors)
        }
    }
}

/// `POST /admin/orgs/{org}/safety-valve`: saves on/off, the share and the minimum.
pub async fn settings_post(posted: Posted<ValveForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let enabled = form.enabled.is_some();
    let (percent, min) = match validate(&form) {
        Ok(values) => values,
        Err(errors) => {
            return super::refused(&session, |cards| {
                let valve = &mut cards.valve;
                valve.enabled = enabled;
                valve.percent = form.percent;
                valve.min = form.min;
                valve.errors = errors;
            })
            .await;
        }
    };
    super::save_card(
        &session,
        "valve_saved",
        "safety-valve",
        move |conn, org, actor, now| safety_valve::configure(conn, org, actor, enabled, percent, min, now),
    )
    .await
}

/// `POST /admin/orgs/{org}/safety-valve/release`: lets deprovisioning through again (audited).
pub async fn release_post(posted: Posted<EmptyForm>) -> Result<HttpResponse, AdminError> {
    let session = posted.session;
    let org = session.info.org_id.clone();
    let actor = session.actor();
    let now = session.state.clock.now_naive();
    let released = session
        .state
        .store
        .write_async(move |conn| safety_valve::release(conn, &org, &actor, now))
        .await?;
    let notice = if released {
        "valve_released"
    } else {
        "valve_not_held"
    };
    Ok(see_other(&format!(
        "/admin/orgs/{}/sso?notice={notice}#safety-valve",
        session.info.org_id
    )))
}
