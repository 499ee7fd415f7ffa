//! The SSO connection card of Organization Settings > SSO (`mod.rs` is the page): its summary, its form
//! (SAML or Azure AD: set, edit) and its removal. A refused form comes back with 422, each error next to its
//! field and every field as typed, except the client secret, which is never rendered back.

use crate::assets::Assets;
use crate::error::AdminError;
use crate::session::EmptyForm;
use crate::session::{Authed, Posted};
use crate::view::{self, Page, Time, see_other};
use actix_web::HttpResponse;
use askama::Template;
use scimd_signin::ConnectionError;
use scimd_signin::connection::{
    AzureInput, CertificateSummary, ClientSecret, ConnectionSummary, FieldError, SamlInput, SettingsSummary,
    ValidationErrors,
};
use serde::Deserialize;

/// The tenant ID of the demo org's Azure AD connection, which `serve` creates on a newcomer's first start so
/// that SCIM can be tried at once. No tenant has it (version 4 UUIDs are random, this one is not): the card
/// shows such a connection as a placeholder, never as connected.
pub const DEMO_PLACEHOLDER_TENANT_ID: &str = "00000000-0000-4000-8000-00000000de00";

pub const KIND_SAML: &str = "saml";
pub const KIND_AZURE: &str = "azure_ad";

#[derive(Debug, Clone)]
pub struct ConnectionView {
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub updated_at: Time,
    /// (label, value) rows shown in monospace.
    pub rows: Vec<(&'static str, String)>,
    pub certificate: Option<CertificateView>,
    /// SAML: the IdP's next certificate, pinned for a rollover.
    pub next_certificate: Option<CertificateView>,
    /// SAML: IdP-initiated sign-ins are accepted.
    pub allow_unsolicited: bool,
    pub client_secret_set: bool,
    /// The demo org's placeholder (`DEMO_PLACEHOLDER_TENANT_ID`): nobody can sign in through it.
    pub placeholder: bool,
}

#[derive(Debug, Clone)]
pub struct CertificateView {
    pub subject: String,
    pub fingerprint: String,
    pub not_after: Time,
    /// Expires within 30 days.
    pub expires_soon: bool,
}

impl CertificateView {
    fn new(c: &CertificateSummary, now: chrono::DateTime<chrono::Utc>) -> CertificateView {
        CertificateView {
            subject: c.subject.clone(),
            fingerprint: c.fingerprint_sha256.clone(),
            not_after: Time::utc(c.not_after),
            expires_soon: c.not_after - now < chrono::Duration::days(30),
        }
    }
}

/// The connection form: which kind, what was typed, and what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct ConnectionForm {
    pub kind: &'static str,
    /// True when a connection exists (the submit button says "Save changes", a Cancel link shows).
    pub editing: bool,
    pub entity_id: String,
    pub sso_url: String,
    pub certificate: String,
    pub next_certificate: String,
    pub allow_unsolicited: bool,
    pub tenant_id: String,
    pub client_id: String,
    /// An Azure AD secret is stored: a blank secret field keeps it.
    pub secret_stored: bool,
    pub errors: FieldErrors,
    /// The pasted IdP metadata could not be read.
    pub metadata_error: Option<String>,
    /// The fields were filled from IdP metadata, for the admin to check before saving.
    pub from_metadata: bool,
}

/// One message per field, shown next to it.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    pub entity_id: Option<String>,
    pub sso_url: Option<String>,
    pub certificate: Option<String>,
    pub next_certificate: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub count: usize,
}

const CLIENT_SECRET_LABEL: &str = "The client secret";

impl FieldErrors {
    fn from_validation(errors: &ValidationErrors) -> FieldErrors {
        let mut out = FieldErrors {
            count: errors.0.len(),
            ..FieldErrors::default()
        };
        for error in &errors.0 {
            let (slot, label) = match error {
                FieldError::EntityId(_) => (&mut out.entity_id, "The IdP entity ID"),
                FieldError::SsoUrl(_) => (&mut out.sso_url, "The SSO URL"),
                FieldError::Certificate(_) => (&mut out.certificate, "The signing certificate"),
                FieldError::NextCertificate(_) => (&mut out.next_certificate, "The next certificate"),
                FieldError::TenantId(_) => (&mut out.tenant_id, "The tenant ID"),
                FieldError::ClientId(_) => (&mut out.client_id, "The client ID"),
                FieldError::ClientSecret(_) => (&mut out.client_secret, CLIENT_SECRET_LABEL),
            };
            // The first refusal of a field is the one shown.
            slot.get_or_insert_with(|| format!("{label} {}", error.message()));
        }
        out
    }
}

impl ConnectionView {
    pub(crate) fn new(summary: &ConnectionSummary, now: chrono::DateTime<chrono::Utc>) -> ConnectionView {
        match &summary.settings {
            SettingsSummary::Saml {
                entity_id,
                sso_url,
                certificate,
                next_certificate,
                allow_unsolicited,
            } => ConnectionView {
                kind: KIND_SAML,
                kind_label: "SAML 2.0",
                updated_at: Time::utc(summary.updated_at),
                rows: vec![("IdP entity ID", entity_id.clone()), ("SSO URL", sso_url.clone())],
                certificate: Some(CertificateView::new(certificate, now)),
                next_certificate: next_certificate.as_ref().map(|c| CertificateView::new(c, now)),
                allow_unsolicited: *allow_unsolicited,
                client_secret_set: false,
                placeholder: false,
            },
            SettingsSummary::AzureAd {
                tenant_id,
                client_id,
                client_secret_set,
            } => ConnectionView {
                kind: KIND_AZURE,
                kind_label: "Microsoft Entra ID (Azure AD)",
                updated_at: Time::utc(summary.updated_at),
                rows: vec![("Tenant ID", tenant_id.clone()), ("Client ID", client_id.clone())],
                certificate: None,
                next_certificate: None,
                allow_unsolicited: false,
                client_secret_set: *client_secret_set,
                placeholder: tenant_id == DEMO_PLACEHOLDER_TENANT_ID,
            },
        }
    }
}

impl ConnectionForm {
    /// A form for `kind`, filled with the saved connection when it is of that kind.
    pub(crate) fn prefilled(kind: &'static str, saved: Option<&ConnectionSummary>) -> ConnectionForm {
        let mut form = ConnectionForm {
            kind,
            editing: saved.is_some(),
            ..ConnectionForm::default()
        };
        match saved.map(|s| &s.settings) {
            Some(SettingsSummary::Saml {
                entity_id,
                sso_url,
                allow_unsolicited,
                ..
            }) if kind == KIND_SAML => {
                form.entity_id = entity_id.clone();
                form.sso_url = sso_url.clone();
                form.allow_unsolicited = *allow_unsolicited;
            }
            Some(SettingsSummary::AzureAd {
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

pub(crate) fn kind_param(raw: Option<&str>, saved: Option<&ConnectionSummary>) -> &'static str {
    match raw {
        Some(KIND_AZURE) => KIND_AZURE,
        Some(KIND_SAML) => KIND_SAML,
        _ => match saved.map(|s| &s.settings) {
            Some(SettingsSummary::AzureAd { .. }) => KIND_AZURE,
            _ => KIND_SAML,
        },
    }
}

#[derive(Deserialize)]
pub struct SamlForm {
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    sso_url: String,
    #[serde(default)]
    certificate: String,
    #[serde(default)]
    next_certificate: String,
    /// A checkbox: present ("on") when ticked.
    #[serde(default)]
    allow_unsolicited: Option<String>,
}

/// `POST /admin/orgs/{org}/sso/saml`
pub async fn saml_post(posted: Posted<SamlForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let input = SamlInput {
        entity_id: form.entity_id.clone(),
        sso_url: form.sso_url.clone(),
        certificate_pem: form.certificate.clone(),
        next_certificate_pem: form.next_certificate.clone(),
        allow_unsolicited: form.allow_unsolicited.is_some(),
    };
    let actor = session.actor();
    let result = session
        .blocking(move |s, me| {
            Ok::<_, ConnectionError>(s.connection.set_saml_blocking(&me.org_id, &actor, &input))
        })
        .await?;
    saved_or_refused(&session, result, |saved, errors| ConnectionForm {
        kind: KIND_SAML,
        editing: saved.is_some(),
        entity_id: form.entity_id,
        sso_url: form.sso_url,
        certificate: form.certificate,
        next_certificate: form.next_certificate,
        allow_unsolicited: form.allow_unsolicited.is_some(),
        errors: FieldErrors::from_validation(errors),
        ..ConnectionForm::default()
    })
    .await
}

#[derive(Deserialize)]
pub struct MetadataForm {
    #[serde(default)]
    metadata_xml: String,
}

/// `POST /admin/orgs/{org}/sso/saml/metadata`: reads pasted IdP metadata into the SAML form, unsaved: the
/// admin checks the entity ID, SSO URL and certificates and then saves (the metadata is not trusted on its
/// own). The current certificate is the metadata's first signing certificate, the next its second.
pub async fn saml_metadata_post(posted: Posted<MetadataForm>) -> Result<HttpResponse, AdminError> {
    let Posted { session, form } = posted;
    let cards = super::load(&session).await?;
    let mut sso = ConnectionForm::prefilled(KIND_SAML, cards.saved.as_ref());
    match scimd_signin::parse_idp_metadata(&form.metadata_xml) {
        Ok(read) => {
            let mut certificates = read.signing_certificates.into_iter();
            sso.entity_id = read.entity_id;
            sso.sso_url = read.sso_url;
            sso.certificate = certificates.next().unwrap_or_default();
            sso.next_certificate = certificates.next().unwrap_or_default();
            sso.from_metadata = true;
            super::connection_form_page(cards, sso, actix_web::http::StatusCode::OK)
        }
        Err(err) => {
            sso.metadata_error = Some(format!("The metadata could not be read: {err}."));
            super::connection_form_page(cards, sso, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
        }
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
        .blocking(move |s, me| {
            Ok::<_, ConnectionError>(s.connection.set_azure_blocking(&me.org_id, &actor, &input))
        })
        .await?;
    saved_or_refused(&session, result, |saved, errors| {
        let secret_stored = matches!(
            saved.map(|s| &s.settings),
            Some(SettingsSummary::AzureAd {
                client_secret_set: true,
                ..
            })
        );
        let mut errors = FieldErrors::from_validation(errors);
        if errors.client_secret.is_none() {
            if secret_given {
                // The secret is never echoed back into the page, so a refused form must ask for it again.
                errors.client_secret = Some("Enter the client secret again: it is never shown back.".into());
            } else if !secret_stored {
                // The service checks a missing secret only once the other fields pass; say it now.
                errors.client_secret = Some(format!("{CLIENT_SECRET_LABEL} is required"));
                errors.count += 1;
            }
        }
        ConnectionForm {
            kind: KIND_AZURE,
            editing: saved.is_some(),
            tenant_id: form.tenant_id,
            client_id: form.client_id,
            secret_stored,
            errors,
            ..ConnectionForm::default()
        }
    })
    .await
}

/// A saved connection redirects to the page; a refused one shows the page again (422) with the form `form`
/// builds from the saved connection and the refusal.
async fn saved_or_refused<T>(
    session: &Authed,
    result: Result<T, ConnectionError>,
    form: impl FnOnce(Option<&ConnectionSummary>, &ValidationErrors) -> ConnectionForm,
) -> Result<HttpResponse, AdminError> {
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/admin/orgs/{}/sso?notice=sso_saved",
            session.info.org_id
        ))),
        Err(ConnectionError::Invalid(errors)) => {
            let cards = super::load(session).await?;
            let form = form(cards.saved.as_ref(), &errors);
            super::refused_connection_form(cards, form)
        }
        Err(err) => Err(err.into()),
    }
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
            Ok::<_, ConnectionError>((
                s.connection.get_blocking(&me.org_id)?,
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
        .blocking(move |s, me| s.connection.remove_blocking(&me.org_id, &actor))
        .await?;
    Ok(see_other(&format!(
        "/admin/orgs/{}/sso?notice=sso_removed",
        session.info.org_id
    )))
}
