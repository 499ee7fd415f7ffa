//! SCIM Provisioning, the section below the SSO connection: generate a token, the one-time reveal, regenerate
//! with a grace period, delete the configuration. The reveal is the POST's own response, marked
//! `Cache-Control: no-store`, so the token exists in no URL, no cache and no later page.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::EmptyForm;
use crate::session::{Authed, Posted};
use crate::view::{self, Page, Time, actor_labels, label_actor, see_other};
use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use askama::Template;
use scimd_tokens::{Expiry, GeneratedToken, Grace};
use serde::Deserialize;

/// What the section shows.
#[derive(Debug, Clone)]
pub struct ScimSection {
    /// Without an SSO connection the section is disabled.
    pub sso_ready: bool,
    pub configured: Option<ScimConfigured>,
    /// The URL IdPs are given (shown in the setup hints even before a token exists).
    pub endpoint_url: String,
}

#[derive(Debug, Clone)]
pub struct ScimConfigured {
    pub endpoint_url: String,
    pub hint: String,
    pub created_at: Time,
    pub created_by: String,
    pub last_used_at: Option<Time>,
    pub expires_at: Option<Time>,
    /// The previous token while its grace period runs.
    pub previous: Option<PreviousToken>,
}

#[derive(Debug, Clone)]
pub struct PreviousToken {
    pub hint: String,
    pub valid_until: Time,
}

impl ScimSection {
    pub async fn load(session: &Authed, sso_ready: bool) -> Result<ScimSection, AdminError> {
        let org = &session.info.org_id;
        let status = session
            .blocking(|s, me| s.tokens.scim_status_blocking(&me.org_id))
            .await?;
        let configured = match status {
            None => None,
            Some(status) => {
                let labels = actor_labels(session, [status.created_by.clone()]).await?;
                Some(ScimConfigured {
                    endpoint_url: status.endpoint_url,
                    hint: status.hint,
                    created_at: Time::utc(status.created_at),
                    created_by: label_actor(&labels, &status.created_by),
                    last_used_at: status.last_used_at.map(Time::utc),
                    expires_at: status.expires_at.map(Time::utc),
                    previous: status.previous.map(|p| PreviousToken {
                        hint: p.hint,
                        valid_until: Time::utc(p.valid_until),
                    }),
                })
            }
        };
        Ok(ScimSection {
            sso_ready,
            configured,
            endpoint_url: session.state.tokens.endpoint_url(org),
        })
    }
}

/// The expiry choices of the forms: (value, label).
pub const EXPIRY_CHOICES: [(&str, &str); 3] = [
    ("never", "Never expires"),
    ("1y", "Expires in 1 year"),
    ("90d", "Expires in 90 days"),
];

/// The grace choices of the regenerate form: (value, label, explanation).
pub const GRACE_CHOICES: [(&str, &str, &str); 3] = [
    (
        "1h",
        "1 hour",
        "The current token keeps working for an hour: time to paste the new one into your IdP.",
    ),
    (
        "24h",
        "24 hours",
        "The current token keeps working for a day, for changes that need approval.",
    ),
    (
        "none",
        "Immediately",
        "The current token stops working now. Use this if it may have leaked.",
    ),
];

#[derive(Template)]
#[template(path = "pages/token_reveal.html")]
struct RevealPage {
    assets: Assets,
    page: Page,
    endpoint_url: String,
    token: String,
    expires_at: Option<Time>,
    previous_valid_until: Option<Time>,
    regenerated: bool,
}

fn reveal(page: Page, generated: GeneratedToken, regenerated: bool) -> Result<HttpResponse, AdminError> {
    let previous_valid_until = generated
        .previous_valid_until
        .filter(|until| *until > generated.created_at)
        .map(Time::utc);
    let html = RevealPage {
        assets: view::assets(),
        page,
        endpoint_url: generated.endpoint_url,
        expires_at: generated.expires_at.map(Time::utc),
        token: generated.token.expose_once(),
        previous_valid_until,
        regenerated,
    }
    .render()?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .body(html))
}

fn expiry(raw: &str) -> Result<Expiry, AdminError> {
    if raw.is_empty() {
        return Ok(Expiry::Never);
    }
    raw.parse()
        .map_err(|_| AdminError::BadRequest("Choose when the token expires: never, 1y or 90d.".into()))
}

#[derive(Deserialize)]
pub struct GenerateForm {
    #[serde(default)]
    expires: String,
}

/// `POST /admin/orgs/{org}/scim/token`: Generate SCIM Token.
pub async fn generate_post(posted: Posted<GenerateForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let expires = expiry(&form.expires)?;
    let page = Page::load(&session, "sso").await?;
    let actor = session.actor();
    let generated = session
        .blocking(move |s, me| s.tokens.generate_blocking(&me.org_id, &actor, expires))
        .await?;
    reveal(page, generated, false)
}

#[derive(Template)]
#[template(path = "pages/confirm_regenerate.html")]
struct ConfirmRegeneratePage {
    assets: Assets,
    page: Page,
    hint: String,
    grace_choices: [(&'static str, &'static str, &'static str); 3],
    expiry_choices: [(&'static str, &'static str); 3],
}

/// The page and the current token's hint for a confirmation about the org's SCIM token (editors only), or
/// the way back to the card when SCIM is not configured (nothing to confirm).
async fn confirming(session: &Authed) -> Result<Result<(Page, String), HttpResponse>, AdminError> {
    session.require_editor()?;
    let page = Page::load(session, "sso").await?;
    let status = session
        .blocking(|s, me| s.tokens.scim_status_blocking(&me.org_id))
        .await?;
    Ok(match status {
        Some(status) => Ok((page, status.hint)),
        None => Err(see_other(&format!("{}#scim", page.url("sso")))),
    })
}

/// `GET /admin/orgs/{org}/scim/regenerate`: the grace period choice.
pub async fn regenerate_get(session: Authed) -> Result<HttpResponse, AdminError> {
    let (page, hint) = match confirming(&session).await? {
        Ok(found) => found,
        Err(back) => return Ok(back),
    };
    view::ok(&ConfirmRegeneratePage {
        assets: view::assets(),
        page,
        hint,
        grace_choices: GRACE_CHOICES,
        expiry_choices: EXPIRY_CHOICES,
    })
}

#[derive(Deserialize)]
pub struct RegenerateForm {
    #[serde(default)]
    grace: String,
    #[serde(default)]
    expires: String,
}

/// `POST /admin/orgs/{org}/scim/regenerate`
pub async fn regenerate_post(posted: Posted<RegenerateForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let grace: Grace = form
        .grace
        .parse()
        .map_err(|_| AdminError::BadRequest("Choose how long the current token keeps working.".into()))?;
    let expires = expiry(&form.expires)?;
    let page = Page::load(&session, "sso").await?;
    let actor = session.actor();
    let generated = session
        .blocking(move |s, me| s.tokens.regenerate_blocking(&me.org_id, &actor, grace, expires))
        .await?;
    reveal(page, generated, true)
}

#[derive(Template)]
#[template(path = "pages/confirm_delete_scim.html")]
struct ConfirmDeletePage {
    assets: Assets,
    page: Page,
    hint: String,
}

/// `GET /admin/orgs/{org}/scim/delete`: the confirmation.
pub async fn delete_get(session: Authed) -> Result<HttpResponse, AdminError> {
    let (page, hint) = match confirming(&session).await? {
        Ok(found) => found,
        Err(back) => return Ok(back),
    };
    view::ok(&ConfirmDeletePage {
        assets: view::assets(),
        page,
        hint,
    })
}

/// `POST /admin/orgs/{org}/scim/delete`: revokes every token of the org at once.
pub async fn delete_post(posted: Posted<EmptyForm>) -> Result<HttpResponse, AdminError> {
    let session = posted.session;
    let actor = session.actor();
    session
        .blocking(move |s, me| s.tokens.revoke_all_blocking(&me.org_id, &actor))
        .await?;
    Ok(see_other(&format!(
        "/admin/orgs/{}/sso?notice=scim_deleted#scim",
        session.info.org_id
    )))
}
