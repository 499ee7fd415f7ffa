//! Organization Settings > SSO: the SSO connection (SAML or Azure AD: set, edit, remove) and, below it, SCIM
//! provisioning (see `scim.rs` for its actions). A refused form comes back with 422, each error next to its
//! field and every field as typed, except the client secret, which is never rendered back.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::pages::limits::LimitsSection;
use crate::pages::safety_valve::ValveSection;
use crate::pages::scim::ScimSection;
use crate::session::EmptyForm;
use crate::session::{Authed, Posted};
use crate::view::{self, Page, Time, see_other};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Query;
use askama::Template;
use scimd_tokens::sso::SsoSettingsSummary;
use scimd_tokens::{AzureInput, ClientSecret, SamlInput, SsoSummary, SsoValidationErrors, TokenError};
use serde::Deserialize;

pub const KIND_SAML: &str = "saml";
pub const KIND_AZURE: &str = "azure_ad";

#[derive(Template)]
#[template(path = "pages/sso.html")]
pub struct SsoPage {
    pub assets: Assets,
    pub page: Page,
    /// The saved connection, shown as a summary (unless it is being edited).
    pub connection: Option<ConnectionView>,
    /// The form, when there is no connection yet, when editing, or after a refused submission.
    pub form: Option<SsoForm>,
    pub scim: ScimSection,
    pub valve: ValveSection,
    pub limits: LimitsSection,
}

#[derive(Debug, Clone)]
pub struct ConnectionView {
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub updated_at: Time,
    /// (label, value) rows shown in monospace.
    pub rows: Vec<(&'static str, String)>,
    pub certificate: Option<CertificateView>,
    pub client_secret_set: bool,
}

#[derive(Debug, Clone)]
pub struct CertificateView {
    pub subject: String,
    pub fingerprint: String,
    pub not_after: Time,
    /// Expires within 30 days.
    pub expires_soon: bool,
}

/// The SSO form: which kind, what was typed, and what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct SsoForm {
    pub kind: &'static str,
    /// True when a connection exists (the submit button says "Save changes", a Cancel link shows).
    pub editing: bool,
    pub entity_id: String,
    pub sso_url: String,
    pub certificate: String,
    pub tenant_id: String,
    pub client_id: String,
    /// An Azure AD secret is stored: a blank secret field keeps it.
    pub secret_stored: bool,
    pub errors: FieldErrors,
}

/// One message per field, shown next to it.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    pub entity_id: Option<String>,
    pub sso_url: Option<String>,
    pub certificate: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub count: usize,
}

impl FieldErrors {
    fn from_validation(errors: &SsoValidationErrors) -> FieldErrors {
        let get = |field: &str| {
            errors
                .for_field(field)
                .map(|e| format!("{} {}", field_label(field), e.message()))
        };
        FieldErrors {
            entity_id: get("entity_id"),
            sso_url: get("sso_url"),
            certificate: get("certificate"),
            tenant_id: get("tenant_id"),
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            count: errors.0.len(),
        }
    }
}

fn field_label(field: &str) -> &'static str {
    match field {
        "entity_id" => "The IdP entity ID",
        "sso_url" => "The SSO URL",
        "certificate" => "The signing certificate",
        "tenant_id" => "The tenant ID",
        "client_id" => "The client ID",
        "client_secret" => "The client secret",
        _ => "This field",
    }
}

impl ConnectionView {
    fn new(summary: &SsoSummary, now: chrono::DateTime<chrono::Utc>) -> ConnectionView {
        match &summary.settings {
            SsoSettingsSummary::Saml {
                entity_id,
                sso_url,
                certificate,
            } => ConnectionView {
                kind: KIND_SAML,
                kind_label: "SAML 2.0",
                updated_at: Time::utc(summary.updated_at),
                rows: vec![("IdP entity ID", entity_id.clone()), ("SSO URL", sso_url.clone())],
                certificate: Some(CertificateView {
                    subject: certificate.subject.clone(),
                    fingerprint: certificate.fingerprint_sha256.clone(),
                    not_after: Time::utc(certificate.not_after),
                    expires_soon: certificate.not_after - now < chrono::Duration::days(30),
                }),
                client_secret_set: false,
            },
            SsoSettingsSummary::AzureAd {
                tenant_id,
                client_id,
                client_secret_set,
            } => ConnectionView {
                kind: KIND_AZURE,
                kind_label: "Microsoft Entra ID (Azure AD)",
                updated_at: Time::utc(summary.updated_at),
                rows: vec![("Tenant ID", tenant_id.clone()), ("Client ID", client_id.clone())],
                certificate: None,
                client_secret_set: *client_secret_set,
            },
        }
    }
}

impl SsoForm {
    /// A form for `kind`, filled with the saved connection when it is of that kind.
    fn prefilled(kind: &'static str, saved: Option<&SsoSummary>) -> SsoForm {
        let mut form = SsoForm {
            kind,
            editing: saved.is_some(),
            ..SsoForm::default()
        };
        match saved.map(|s| &s.settings) {
            Some(SsoSettingsSummary::Saml {
                entity_id, sso_url, ..
            }) if kind == KIND_SAML => {
                form.entity_id = entity_id.clone();
                form.sso_url = sso_url.clone();
            }
            Some(SsoSettingsSummary::AzureAd {
                tenant_id,
                client_id,
                client_secret_set,
            }) if kind == KIND_AZURE => {
                form.tenant_id = tenant_id.clone();
                form.client_id = client_id.clone();
                form.secret_stored = *client_secret_set;
            }
            _ => {}
        }
        form
    }
}

fn kind_param(raw: Option<&str>, saved: Option<&SsoSummary>) -> &'static str {
    match raw {
        Some(KIND_AZURE) => KIND_AZURE,
        Some(KIND_SAML) => KIND_SAML,
        _ => match saved.map(|s| &s.settings) {
            Some(SsoSettingsSummary::AzureAd { .. }) => KIND_AZURE,
            _ => KIND_SAML,
        },
    }
}

#[derive(Deserialize)]
pub struct SsoQuery {
    kind: Option<String>,
    edit: Option<String>,
    notice: Option<String>,
}

/// Everything the page needs besides the SSO form.
struct Loaded {
    page: Page,
    saved: Option<SsoSummary>,
    scim: ScimSection,
    valve: ValveSection,
    limits: LimitsSection,
}

async fn load(session: &Authed) -> Result<Loaded, AdminError> {
    let page = Page::load(session, "sso").await?;
    let saved = session.blocking(|s, me| s.sso.get_blocking(&me.org_id)).await?;
    let scim = ScimSection::load(session, saved.is_some()).await?;
    let valve = ValveSection::load(session).await?;
    let limits = LimitsSection::load(session).await?;
    Ok(Loaded {
        page,
        saved,
        scim,
        valve,
        limits,
    })
}

/// The page as a GET shows it: the saved connection's summary, or its form when there is none yet (or when
/// `edit` asks for it).
fn as_shown(session: &Authed, loaded: Loaded, kind: Option<&str>, edit: bool) -> SsoPage {
    let Loaded {
        page,
        saved,
        scim,
        valve,
        limits,
    } = loaded;
    let editing = edit || saved.is_none();
    let form = (editing && session.can_edit()).then(|| {
        let kind = kind_param(kind, saved.as_ref());
        SsoForm::prefilled(kind, saved.as_ref())
    });
    let now = session.state.clock.now();
    let connection = saved.as_ref().map(|s| ConnectionView::new(s, now));
    SsoPage {
        assets: view::assets(),
        page,
        connection: if form.is_some() { None } else { connection },
        form,
        scim,
        valve,
        limits,
    }
}

/// `GET /admin/orgs/{org}/sso`
pub async fn sso_get(session: Authed, query: Query<SsoQuery>) -> Result<HttpResponse, AdminError> {
    let mut loaded = load(&session).await?;
    loaded.page = loaded.page.with_notice(query.notice.as_deref());
    view::ok(&as_shown(
        &session,
        loaded,
        query.kind.as_deref(),
        query.edit.is_some(),
    ))
}

/// The page with a refused limits form (422): `typed` puts what was typed and the errors in the card.
pub(crate) async fn refused_limits(
    session: &Authed,
    typed: impl FnOnce(&mut LimitsSection),
) -> Result<HttpResponse, AdminError> {
    refused_card(session, |loaded| typed(&mut loaded.limits)).await
}

/// The page with a refused safety valve form (422): `typed` puts what was typed and the errors in the card.
pub(crate) async fn refused_valve(
    session: &Authed,
    typed: impl FnOnce(&mut ValveSection),
) -> Result<HttpResponse, AdminError> {
    refused_card(session, |loaded| typed(&mut loaded.valve)).await
}

async fn refused_card(session: &Authed, typed: impl FnOnce(&mut Loaded)) -> Result<HttpResponse, AdminError> {
    let mut loaded = load(session).await?;
    typed(&mut loaded);
    view::render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &as_shown(session, loaded, None, false),
    )
}

#[derive(Deserialize)]
pub struct SamlForm {
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    sso_url: String,
    #[serde(default)]
    certificate: String,
}

/// `POST /admin/orgs/{org}/sso/saml`
pub async fn saml_post(posted: Posted<SamlForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let input = SamlInput {
        entity_id: form.entity_id.clone(),
        sso_url: form.sso_url.clone(),
        certificate_pem: form.certificate.clone(),
    };
    let actor = session.actor();
    let result = session
        .blocking(move |s, me| Ok::<_, TokenError>(s.sso.set_saml_blocking(&me.org_id, &actor, &input)))
        .await?;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/admin/orgs/{}/sso?notice=sso_saved",
            session.info.org_id
        ))),
        Err(TokenError::InvalidSso(errors)) => {
            let Loaded {
                page,
                saved,
                scim,
                valve,
                limits,
            } = load(&session).await?;
            let form = SsoForm {
                kind: KIND_SAML,
                editing: saved.is_some(),
                entity_id: form.entity_id,
                sso_url: form.sso_url,
                certificate: form.certificate,
                errors: FieldErrors::from_validation(&errors),
                ..SsoForm::default()
            };
            refused(page, form, scim, valve, limits)
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub struct AzureForm {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
}

/// `POST /admin/orgs/{org}/sso/azure`. A blank secret keeps the stored one.
pub async fn azure_post(posted: Posted<AzureForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let secret_given = !form.client_secret.is_empty();
    let input = AzureInput {
        tenant_id: form.tenant_id.clone(),
        client_id: form.client_id.clone(),
        client_secret: secret_given.then(|| ClientSecret::new(form.client_secret)),
    };
    let actor = session.actor();
    let result = session
        .blocking(move |s, me| Ok::<_, TokenError>(s.sso.set_azure_blocking(&me.org_id, &actor, &input)))
        .await?;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/admin/orgs/{}/sso?notice=sso_saved",
            session.info.org_id
        ))),
        Err(TokenError::InvalidSso(errors)) => {
            let Loaded {
                page,
                saved,
                scim,
                valve,
                limits,
            } = load(&session).await?;
            let secret_stored = matches!(
                saved.as_ref().map(|s| &s.settings),
                Some(SsoSettingsSummary::AzureAd {
                    client_secret_set: true,
                    ..
                })
            );
            let mut errors = FieldErrors::from_validation(&errors);
            if errors.client_secret.is_none() {
                if secret_given {
                    // The secret is never echoed back into the page, so a refused form must ask for it again.
                    errors.client_secret =
                        Some("Enter the client secret again: it is never shown back.".into());
                } else if !secret_stored {
                    // The service checks a missing secret only once the other fields pass; say it now.
                    errors.client_secret = Some(format!("{} is required", field_label("client_secret")));
                    errors.count += 1;
                }
            }
            let form = SsoForm {
                kind: KIND_AZURE,
                editing: saved.is_some(),
                tenant_id: form.tenant_id,
                client_id: form.client_id,
                secret_stored,
                errors,
                ..SsoForm::default()
            };
            refused(page, form, scim, valve, limits)
        }
        Err(err) => Err(err.into()),
    }
}

fn refused(
    page: Page,
    form: SsoForm,
    scim: ScimSection,
    valve: ValveSection,
    limits: LimitsSection,
) -> Result<HttpResponse, AdminError> {
    view::render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SsoPage {
            assets: view::assets(),
            page,
            connection: None,
            form: Some(form),
            scim,
            valve,
            limits,
        },
    )
}

#[derive(Template)]
#[template(path = "pages/confirm_remove_sso.html")]
struct ConfirmRemovePage {
    assets: Assets,
    page: Page,
    scim_configured: bool,
}

/// `GET /admin/orgs/{org}/sso/remove`: the confirmation.
pub async fn remove_get(session: Authed) -> Result<HttpResponse, AdminError> {
    session.require_editor()?;
    let page = Page::load(&session, "sso").await?;
    let (saved, scim) = session
        .blocking(|s, me| {
            Ok::<_, TokenError>((
                s.sso.get_blocking(&me.org_id)?,
                s.tokens.scim_status_blocking(&me.org_id)?,
            ))
        })
        .await?;
    if saved.is_none() {
        return Ok(see_other(&page.url("sso")));
    }
    let scim_configured = scim.is_some();
    view::ok(&ConfirmRemovePage {
        assets: view::assets(),
        page,
        scim_configured,
    })
}

/// `POST /admin/orgs/{org}/sso/remove`: removes the connection (and with it SCIM provisioning).
pub async fn remove_post(posted: Posted<EmptyForm>) -> Result<HttpResponse, AdminError> {
    let session = posted.session;
    let actor = session.actor();
    session
        .blocking(move |s, me| s.sso.remove_blocking(&me.org_id, &actor))
        .await?;
    Ok(see_other(&format!(
        "/admin/orgs/{}/sso?notice=sso_removed",
        session.info.org_id
    )))
}
