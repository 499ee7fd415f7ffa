//! Organization Settings > SSO, the page (`/admin/orgs/{org}/sso`): its cards, a file each in this folder (the
//! SSO connection, `connection.rs`; SCIM provisioning, `scim.rs`; the safety valve, `safety_valve.rs`; the
//! limits, `limits.rs`), loaded together. A card's refused form shows the whole page again through here, with
//! 422 and what was typed in that card.
//!
//! The one import loop the admin pages keep, on purpose and inside this folder: this page uses each card's
//! view type, and each card's POST handler comes back here (`super::`) to re-render the page (`refused`) or to
//! save and return to it (`save_card`). Splitting the cards' handlers from their view types would only move
//! the loop.

pub mod attributes;
pub mod connection;
pub mod limits;
pub mod roles;
pub mod safety_valve;
pub mod scim;

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::Authed;
use crate::view::{self, Page, see_other};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Query;
use askama::Template;
use attributes::AttributesSection;
use chrono::NaiveDateTime;
use connection::{ConnectionForm, ConnectionView, kind_param};
use limits::LimitsSection;
use roles::RolesSection;
use safety_valve::ValveSection;
use scim::ScimSection;
use scimd_signin::ConnectionSummary;
use scimd_signin::connection::SettingsSummary;
use scimd_store::{DbConnection, OrgId, StoreError};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "pages/settings.html")]
pub struct SettingsPage {
    pub assets: Assets,
    pub page: Page,
    /// The saved connection, shown as a summary (unless it is being edited).
    pub connection: Option<ConnectionView>,
    /// The form, when there is no connection yet, when editing, or after a refused submission.
    pub form: Option<ConnectionForm>,
    pub scim: ScimSection,
    pub valve: ValveSection,
    pub limits: LimitsSection,
    pub signin: SignInCard,
    pub roles: RolesSection,
    pub attributes: AttributesSection,
}

/// The sign-in card: this org's SP values for the IdP, and where members start signing in.
#[derive(Debug, Clone)]
pub struct SignInCard {
    pub entity_id: String,
    pub acs_url: String,
    pub metadata_url: String,
    pub start_url: String,
    /// A SAML connection is saved: members can sign in now.
    pub ready: bool,
}

/// Everything the page shows besides the connection form.
pub(crate) struct Cards {
    pub page: Page,
    pub saved: Option<ConnectionSummary>,
    pub scim: ScimSection,
    pub valve: ValveSection,
    pub limits: LimitsSection,
    pub signin: SignInCard,
    pub roles: RolesSection,
    pub attributes: AttributesSection,
}

pub(crate) async fn load(session: &Authed) -> Result<Cards, AdminError> {
    load_with(session, None).await
}

/// [`load`], with the roles card explaining member `explain`'s roles.
pub(crate) async fn load_with(session: &Authed, explain: Option<String>) -> Result<Cards, AdminError> {
    let page = Page::load(session, "sso").await?;
    let saved = session
        .blocking(|s, me| s.connection.get_blocking(&me.org_id))
        .await?;
    let scim = ScimSection::load(session, saved.is_some()).await?;
    let valve = ValveSection::load(session).await?;
    let limits = LimitsSection::load(session).await?;
    let roles = RolesSection::load(session, explain).await?;
    let attributes = AttributesSection::load(session).await?;
    let org = &session.info.org_id;
    let signin = &session.state.signin;
    let signin = SignInCard {
        entity_id: signin.sp_entity_id(org),
        acs_url: signin.acs_url(org),
        metadata_url: signin.metadata_url(org),
        start_url: signin.start_url(org),
        ready: matches!(
            saved.as_ref().map(|s| &s.settings),
            Some(SettingsSummary::Saml { .. })
        ),
    };
    Ok(Cards {
        page,
        saved,
        scim,
        valve,
        limits,
        signin,
        roles,
        attributes,
    })
}

impl Cards {
    fn with_form(self, connection: Option<ConnectionView>, form: Option<ConnectionForm>) -> SettingsPage {
        SettingsPage {
            assets: view::assets(),
            page: self.page,
            connection,
            form,
            scim: self.scim,
            valve: self.valve,
            limits: self.limits,
            signin: self.signin,
            roles: self.roles,
            attributes: self.attributes,
        }
    }
}

/// The page as a GET shows it: the saved connection's summary, or its form when there is none yet (or when
/// `edit` asks for it).
fn as_shown(session: &Authed, cards: Cards, kind: Option<&str>, edit: bool) -> SettingsPage {
    let editing = edit || cards.saved.is_none();
    let form = (editing && session.can_edit()).then(|| {
        let kind = kind_param(kind, cards.saved.as_ref());
        ConnectionForm::prefilled(kind, cards.saved.as_ref())
    });
    let connection = match (&form, &cards.saved) {
        (None, Some(saved)) => Some(ConnectionView::new(saved, session.state.clock.now())),
        _ => None,
    };
    cards.with_form(connection, form)
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    kind: Option<String>,
    edit: Option<String>,
    notice: Option<String>,
    /// A member id: the roles card explains its roles.
    explain: Option<String>,
}

/// `GET /admin/orgs/{org}/sso`
pub async fn settings_get(session: Authed, query: Query<SettingsQuery>) -> Result<HttpResponse, AdminError> {
    let mut cards = load_with(&session, query.explain.clone()).await?;
    cards.page = cards.page.with_notice(query.notice.as_deref());
    view::ok(&as_shown(
        &session,
        cards,
        query.kind.as_deref(),
        query.edit.is_some(),
    ))
}

/// The page with a refused card form (422): `typed` puts what was typed and the errors in its card.
pub(crate) async fn refused(
    session: &Authed,
    typed: impl FnOnce(&mut Cards),
) -> Result<HttpResponse, AdminError> {
    let mut cards = load(session).await?;
    typed(&mut cards);
    view::render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &as_shown(session, cards, None, false),
    )
}

/// The page as a GET shows it, with `shown` put in a card (a preview), with 200.
pub(crate) async fn shown(
    session: &Authed,
    shown: impl FnOnce(&mut Cards),
) -> Result<HttpResponse, AdminError> {
    let mut cards = load(session).await?;
    shown(&mut cards);
    view::render(StatusCode::OK, &as_shown(session, cards, None, false))
}

/// Saves a card's form: `f` runs as one write with the org, the actor and the time, then the browser goes back
/// to the card (`#anchor`) with `notice`. A refusal of the store (a value it will not take) is 400.
pub(crate) async fn save_card<F>(
    session: &Authed,
    notice: &str,
    anchor: &str,
    f: F,
) -> Result<HttpResponse, AdminError>
where
    F: FnOnce(&mut DbConnection, &OrgId, &str, NaiveDateTime) -> Result<(), StoreError> + Send + 'static,
{
    let org = session.info.org_id.clone();
    let actor = session.actor();
    let now = session.state.clock.now_naive();
    session
        .state
        .store
        .write_async(move |conn| f(conn, &org, &actor, now))
        .await
        .map_err(|err| match err {
            StoreError::Refused(message) => AdminError::BadRequest(message),
            other => other.into(),
        })?;
    Ok(see_other(&format!(
        "/admin/orgs/{}/sso?notice={notice}#{anchor}",
        session.info.org_id
    )))
}

/// The page with a refused connection form (422), shown instead of the connection's summary.
pub(crate) fn refused_connection_form(
    cards: Cards,
    form: ConnectionForm,
) -> Result<HttpResponse, AdminError> {
    connection_form_page(cards, form, StatusCode::UNPROCESSABLE_ENTITY)
}

/// The page with the connection form as given (filled from metadata, or refused).
pub(crate) fn connection_form_page(
    cards: Cards,
    form: ConnectionForm,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    view::render(status, &cards.with_form(None, Some(form)))
}
