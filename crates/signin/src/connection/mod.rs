//! The org's SSO connection (SAML or Azure AD): set, read as a non-secret summary, remove. The admin pages and
//! the CLI both call [`ConnectionService`]; each change is one transaction with its audit event.
//!
//! - `validate`: field-by-field checks, one error variant per field;
//! - the Azure AD client secret is encrypted at rest (`scimd_tokens::cipher`) and never returned by any read.
//!
//! Removing the connection also revokes the org's SCIM tokens (SCIM provisioning needs SSO; a live token for a
//! feature the admin pages show as disabled would be a credential nobody sees).

pub(crate) mod validate;

pub use validate::{CertificateSummary, FieldError, ValidationErrors};

use crate::error::ConnectionError;
use chrono::{DateTime, Utc};
use scimd_store::models::scim_tokens;
use scimd_store::models::sealed::SealedValue;
use scimd_store::models::sso_connections::{self, SsoConnectionRow};
use scimd_store::{Clock, OrgId, Store};
use scimd_tokens::audit;
use scimd_tokens::cipher::SecretCipher;
use scimd_tokens::keys::SecretKey;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

const KIND_SAML: &str = "saml";
const KIND_AZURE_AD: &str = "azure_ad";
const AZURE_SECRET_PURPOSE: &str = "azure_ad_client_secret";

/// The org and purpose a stored Azure AD client secret was sealed with (`scimd keys rotate` re-seals it).
pub fn seal_context(value: &SealedValue) -> (OrgId, String) {
    (OrgId::new(value.key.as_str()), AZURE_SECRET_PURPOSE.to_owned())
}

/// SAML settings as the admin typed them.
#[derive(Debug, Clone, Default)]
pub struct SamlInput {
    pub entity_id: String,
    pub sso_url: String,
    pub certificate_pem: String,
    /// The IdP's next signing certificate, pinned beside the current one for a rollover (blank: none).
    pub next_certificate_pem: String,
    /// Accept IdP-initiated (unsolicited) responses. Off unless the admin turns it on: they widen login CSRF.
    pub allow_unsolicited: bool,
}

/// Azure AD settings as the admin typed them. `client_secret: None` keeps the stored secret (a form that
/// leaves the secret blank); it is required when the org has no Azure AD secret yet.
#[derive(Debug, Clone)]
pub struct AzureInput {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
}

/// A client secret on its way to being encrypted: never printed, zeroed on drop.
#[derive(Clone)]
pub struct ClientSecret(Zeroizing<String>);

impl ClientSecret {
    pub fn new(secret: String) -> ClientSecret {
        ClientSecret(Zeroizing::new(secret))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// The org's connection as a sign-in uses it (see [`ConnectionService::sign_in_settings_blocking`]).
#[derive(Debug, Clone)]
pub enum SignInSettings {
    Saml {
        entity_id: String,
        sso_url: String,
        /// The current certificate, then the next one when one is pinned.
        certificates_pem: Vec<String>,
        allow_unsolicited: bool,
    },
    AzureAd {
        tenant_id: String,
        client_id: String,
        client_secret: ClientSecret,
    },
}

/// The org's connection as the pages and the CLI show it. Holds nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionSummary {
    #[serde(flatten)]
    pub settings: SettingsSummary,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SettingsSummary {
    Saml {
        entity_id: String,
        sso_url: String,
        certificate: CertificateSummary,
        /// The next certificate, pinned for a rollover.
        next_certificate: Option<CertificateSummary>,
        allow_unsolicited: bool,
    },
    AzureAd {
        tenant_id: String,
        client_id: String,
        /// Whether a client secret is stored (its value is never shown).
        client_secret_set: bool,
    },
}

/// What `settings` holds, per kind.
#[derive(Serialize, Deserialize)]
struct SamlSettings {
    entity_id: String,
    sso_url: String,
    certificate_pem: String,
    certificate: CertificateSummary,
    #[serde(default)]
    next_certificate_pem: Option<String>,
    #[serde(default)]
    next_certificate: Option<CertificateSummary>,
    #[serde(default)]
    allow_unsolicited: bool,
}

#[derive(Serialize, Deserialize)]
struct AzureSettings {
    tenant_id: String,
    client_id: String,
}

#[derive(Clone)]
pub struct ConnectionService {
    store: Store,
    clock: Arc<dyn Clock>,
    /// `None`: the key stored in `server_secrets`.
    secret_key: Option<SecretKey>,
}

impl fmt::Debug for ConnectionService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionService").finish_non_exhaustive()
    }
}

impl ConnectionService {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> ConnectionService {
        ConnectionService {
            store,
            clock,
            secret_key: None,
        }
    }

    /// The same service encrypting with a key given from outside the database (`scimd_tokens::keys::Keys`);
    /// `None` keeps the stored key. Secrets stored under one key do not decrypt under another: set the key
    /// before the first Azure AD secret is saved, or save the secrets again.
    pub fn with_secret_key(self, secret_key: Option<SecretKey>) -> ConnectionService {
        ConnectionService { secret_key, ..self }
    }

    /// Sets (or replaces) the org's connection with SAML settings.
    pub fn set_saml_blocking(
        &self,
        org: &OrgId,
        actor: &str,
        input: &SamlInput,
    ) -> Result<ConnectionSummary, ConnectionError> {
        let now = self.clock.now();
        let mut errors = Vec::new();
        let entity_id = validate::entity_id(&input.entity_id)
            .map_err(|e| errors.push(e))
            .ok();
        let sso_url = validate::sso_url(&input.sso_url).map_err(|e| errors.push(e)).ok();
        let certificate = validate::certificate(&input.certificate_pem, now)
            .map_err(|e| errors.push(e))
            .ok();
        let next = if input.next_certificate_pem.trim().is_empty() {
            None
        } else {
            match validate::certificate(&input.next_certificate_pem, now) {
                Ok(next) => Some(next),
                Err(e) => {
                    errors.push(FieldError::NextCertificate(e.message().to_owned()));
                    None
                }
            }
        };
        let (Some(entity_id), Some(sso_url), Some((certificate_pem, certificate)), true) =
            (entity_id, sso_url, certificate, errors.is_empty())
        else {
            return Err(ConnectionError::Invalid(ValidationErrors(errors)));
        };
        let (next_certificate_pem, next_certificate) = next.unzip();
        let settings = SamlSettings {
            entity_id,
            sso_url,
            certificate_pem,
            certificate,
            next_certificate_pem,
            next_certificate,
            allow_unsolicited: input.allow_unsolicited,
        };
        let settings_json = serde_json::to_string(&settings).map_err(scimd_store::StoreError::from)?;
        let details = json!({
            "entity_id": settings.entity_id,
            "sso_url": settings.sso_url,
            "certificate_fingerprint_sha256": settings.certificate.fingerprint_sha256,
            "certificate_not_after": settings.certificate.not_after,
            "next_certificate_fingerprint_sha256":
                settings.next_certificate.as_ref().map(|c| c.fingerprint_sha256.clone()),
            "allow_unsolicited": settings.allow_unsolicited,
        });
        let now_naive = self.clock.now_naive();
        self.store.write(|conn| {
            if !scim_tokens::lock_org(conn, org)? {
                return Err(ConnectionError::OrgNotFound);
            }
            let created_at = sso_connections::find(conn, org)?.map_or(now_naive, |row| row.created_at);
            sso_connections::upsert(
                conn,
                &SsoConnectionRow {
                    org_id: org.as_str().to_owned(),
                    kind: KIND_SAML.to_owned(),
                    settings: settings_json,
                    secret_ciphertext: None,
                    created_at,
                    updated_at: now_naive,
                },
            )?;
            audit::record(conn, org, now_naive, actor, audit::SSO_SAML_SET, None, details)?;
            Ok(())
        })?;
        tracing::info!(org = %org, kind = KIND_SAML, "SSO connection set");
        self.get_blocking(org)?
            .ok_or_else(|| ConnectionError::Corrupt("the SSO connection vanished after it was set".into()))
    }

    /// Sets (or replaces) the org's connection with Azure AD settings; the client secret is encrypted.
    pub fn set_azure_blocking(
        &self,
        org: &OrgId,
        actor: &str,
        input: &AzureInput,
    ) -> Result<ConnectionSummary, ConnectionError> {
        let mut errors = Vec::new();
        let tenant_id = validate::tenant_id(&input.tenant_id)
            .map_err(|e| errors.push(e))
            .ok();
        let client_id = validate::client_id(&input.client_id)
            .map_err(|e| errors.push(e))
            .ok();
        if let Some(secret) = &input.client_secret
            && let Err(e) = validate::client_secret(secret.as_str())
        {
            errors.push(e);
        }
        let (Some(tenant_id), Some(client_id), true) = (tenant_id, client_id, errors.is_empty()) else {
            return Err(ConnectionError::Invalid(ValidationErrors(errors)));
        };
        let settings = AzureSettings { tenant_id, client_id };
        let settings_json = serde_json::to_string(&settings).map_err(scimd_store::StoreError::from)?;
        let now = self.clock.now_naive();
        self.store.write(|conn| {
            if !scim_tokens::lock_org(conn, org)? {
                return Err(ConnectionError::OrgNotFound);
            }
            let existing = sso_connections::find(conn, org)?;
            let secret_ciphertext = match (&input.client_secret, &existing) {
                (Some(secret), _) => {
                    let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
                    cipher.encrypt(org, AZURE_SECRET_PURPOSE, secret.as_str().as_bytes())?
                }
                (None, Some(row)) if row.kind == KIND_AZURE_AD && row.secret_ciphertext.is_some() => {
                    row.secret_ciphertext.clone().unwrap_or_default()
                }
                (None, _) => {
                    return Err(ConnectionError::Invalid(ValidationErrors(vec![
                        FieldError::ClientSecret("is required".into()),
                    ])));
                }
            };
            sso_connections::upsert(
                conn,
                &SsoConnectionRow {
                    org_id: org.as_str().to_owned(),
                    kind: KIND_AZURE_AD.to_owned(),
                    settings: settings_json,
                    secret_ciphertext: Some(secret_ciphertext),
                    created_at: existing.as_ref().map_or(now, |row| row.created_at),
                    updated_at: now,
                },
            )?;
            let details = json!({
                "tenant_id": settings.tenant_id,
                "client_id": settings.client_id,
                "client_secret_changed": input.client_secret.is_some(),
            });
            audit::record(conn, org, now, actor, audit::SSO_AZURE_SET, None, details)?;
            Ok(())
        })?;
        tracing::info!(org = %org, kind = KIND_AZURE_AD, "SSO connection set");
        self.get_blocking(org)?
            .ok_or_else(|| ConnectionError::Corrupt("the SSO connection vanished after it was set".into()))
    }

    /// The org's connection, without its secret; `None` when there is none.
    pub fn get_blocking(&self, org: &OrgId) -> Result<Option<ConnectionSummary>, ConnectionError> {
        let Some(row) = self.store.read(|conn| sso_connections::find(conn, org))? else {
            return Ok(None);
        };
        summarise(row).map(Some)
    }

    /// What a sign-in through the org's connection needs, secrets included (the Azure AD client secret
    /// decrypted): for the sign-in service only, never for a page. `None` when the org has no connection.
    pub fn sign_in_settings_blocking(&self, org: &OrgId) -> Result<Option<SignInSettings>, ConnectionError> {
        let now = self.clock.now_naive();
        self.store.read(|conn| {
            let Some(row) = sso_connections::find(conn, org)? else {
                return Ok(None);
            };
            let corrupt = |e: serde_json::Error| {
                ConnectionError::Corrupt(format!("SSO settings of kind {}: {e}", row.kind))
            };
            Ok(Some(match row.kind.as_str() {
                KIND_SAML => {
                    let s: SamlSettings = serde_json::from_str(&row.settings).map_err(corrupt)?;
                    SignInSettings::Saml {
                        entity_id: s.entity_id,
                        sso_url: s.sso_url,
                        certificates_pem: std::iter::once(s.certificate_pem)
                            .chain(s.next_certificate_pem)
                            .collect(),
                        allow_unsolicited: s.allow_unsolicited,
                    }
                }
                KIND_AZURE_AD => {
                    let s: AzureSettings = serde_json::from_str(&row.settings).map_err(corrupt)?;
                    let sealed = row.secret_ciphertext.as_deref().ok_or_else(|| {
                        ConnectionError::Corrupt("an Azure AD connection without its client secret".into())
                    })?;
                    let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
                    let plain = cipher.decrypt(org, AZURE_SECRET_PURPOSE, sealed)?;
                    let secret = String::from_utf8(plain.to_vec()).map_err(|_| {
                        ConnectionError::Corrupt("the Azure AD client secret is not UTF-8".into())
                    })?;
                    SignInSettings::AzureAd {
                        tenant_id: s.tenant_id,
                        client_id: s.client_id,
                        client_secret: ClientSecret::new(secret),
                    }
                }
                other => {
                    return Err(ConnectionError::Corrupt(format!(
                        "unknown SSO connection kind {other:?}"
                    )));
                }
            }))
        })
    }

    /// Removes the org's connection and revokes its SCIM tokens. Returns whether there was a connection.
    pub fn remove_blocking(&self, org: &OrgId, actor: &str) -> Result<bool, ConnectionError> {
        let now = self.clock.now_naive();
        let removed = self.store.write(|conn| {
            if !scim_tokens::lock_org(conn, org)? {
                return Err(ConnectionError::OrgNotFound);
            }
            let Some(row) = sso_connections::find(conn, org)? else {
                return Ok(false);
            };
            sso_connections::delete(conn, org)?;
            let revoked = scimd_tokens::bearer::service::revoke_all_in(conn, org, actor, now, "sso_removed")?;
            let details = json!({"kind": row.kind, "scim_tokens_revoked": revoked});
            audit::record(conn, org, now, actor, audit::SSO_REMOVED, None, details)?;
            Ok(true)
        })?;
        if removed {
            tracing::info!(org = %org, "SSO connection removed");
        }
        Ok(removed)
    }
}

fn summarise(row: SsoConnectionRow) -> Result<ConnectionSummary, ConnectionError> {
    let corrupt =
        |e: serde_json::Error| ConnectionError::Corrupt(format!("SSO settings of kind {}: {e}", row.kind));
    let settings = match row.kind.as_str() {
        KIND_SAML => {
            let s: SamlSettings = serde_json::from_str(&row.settings).map_err(corrupt)?;
            SettingsSummary::Saml {
                entity_id: s.entity_id,
                sso_url: s.sso_url,
                certificate: s.certificate,
                next_certificate: s.next_certificate,
                allow_unsolicited: s.allow_unsolicited,
            }
        }
        KIND_AZURE_AD => {
            let s: AzureSettings = serde_json::from_str(&row.settings).map_err(corrupt)?;
            SettingsSummary::AzureAd {
                tenant_id: s.tenant_id,
                client_id: s.client_id,
                client_secret_set: row.secret_ciphertext.is_some(),
            }
        }
        other => {
            return Err(ConnectionError::Corrupt(format!(
                "unknown SSO connection kind {other:?}"
            )));
        }
    };
    Ok(ConnectionSummary {
        settings,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}
