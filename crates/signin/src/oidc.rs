//! Sign-in through an Entra ID ("Azure AD") connection: the authorization code flow with PKCE S256, `state`
//! and `nonce` (`scimd_sso::oidc` does the protocol). In three steps, because the outbound HTTP client runs
//! on the actix worker (awc is not `Send`) while the database work blocks:
//!
//! 1. [`SignInService::oidc_callback_blocking`]: the pending sign-in named by `state` is consumed (same
//!    browser only), the query read (the IdP's `error`, the `code`), the connection's secret decrypted;
//! 2. [`OidcCallback::verify`]: the code redeemed at the tenant's token endpoint, the ID token verified
//!    against the tenant's JWKS (cached per tenant, refetched once on an unknown `kid`): exact `iss`, `aud`,
//!    `tid`, `nonce`, times;
//! 3. [`SignInService::oidc_finish_blocking`]: the identity mapped to a member of this org (the object ID as
//!    `externalId`, then `preferred_username` as `userName`, among SCIM-managed members; never `email`) and the session opened.
//!
//! The PKCE verifier is not stored: it is derived from the binding cookie and `state` (SHA-256 of both), so
//! only the browser that started can finish, and the database never holds a secret of the flow.

use crate::browser;
use crate::connection::SignInSettings;
use crate::error::SignInError;
use crate::identity;
use crate::jwks::JwksCaches;
use crate::service::{Finished, PROTOCOL_OIDC, SignInService};
use chrono::{DateTime, Utc};
use scimd_sso::oidc::{
    self, AuthorizationCode, ClientSecret, EntraConfig, IdTokenClaims, Nonce, OidcError, PkceVerifier, State,
};
use scimd_store::OrgId;
use scimd_store::models::sso_signin;
use scimd_tokens::SsoSignIn;
use scimd_tokens::audit::ANONYMOUS_ACTOR;

/// Step 1's result: everything step 2 needs (it is `Send`; the HTTP client is not).
pub struct OidcCallback {
    org: OrgId,
    config: EntraConfig,
    code: AuthorizationCode,
    verifier: PkceVerifier,
    nonce: Nonce,
    client_secret: ClientSecret,
    return_to: String,
    caches: JwksCaches,
}

impl std::fmt::Debug for OidcCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcCallback")
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// A verified identity, for step 3.
#[derive(Debug)]
pub struct OidcIdentity {
    claims: IdTokenClaims,
    return_to: String,
}

impl OidcCallback {
    pub fn org(&self) -> &OrgId {
        &self.org
    }

    /// Step 2: redeem the code and verify the ID token (on the actix worker). An error's
    /// `reason_code()` is what [`SignInService::oidc_refused_blocking`] records.
    pub async fn verify(
        self,
        http: &oidc::http::HttpClient,
        now: DateTime<Utc>,
    ) -> Result<OidcIdentity, OidcError> {
        let token = oidc::http::exchange_code(
            http,
            &self.config,
            &self.code,
            &self.verifier,
            &self.client_secret,
        )
        .await?;
        let mut cache = self.caches.take(&self.config);
        let verified = self
            .config
            .verify_id_token(&token.id_token, &mut cache, http, &self.nonce, now)
            .await;
        self.caches.put_back(&self.config, cache);
        Ok(OidcIdentity {
            claims: verified?,
            return_to: self.return_to,
        })
    }
}

impl SignInService {
    /// The Entra configuration of `org`'s connection, with this org's callback.
    pub(crate) fn entra_config(
        &self,
        org: &OrgId,
        tenant_id: &str,
        client_id: &str,
    ) -> Result<EntraConfig, SignInError> {
        EntraConfig::new(
            self.entra_authority(),
            tenant_id,
            client_id,
            &self.oidc_callback_url(org),
        )
        .map_err(|e| SignInError::Misconfigured(e.to_string()))
    }

    /// The OIDC redirect URI of `org`: `{public_url}/sso/oidc/{org}/callback` (register it in Entra).
    pub fn oidc_callback_url(&self, org: &OrgId) -> String {
        format!("{}/sso/oidc/{}/callback", self.public_url(), org.as_str())
    }

    /// Step 1 of the callback (`query` is the raw query string without `?`).
    pub fn oidc_callback_blocking(
        &self,
        org: &OrgId,
        query: &str,
        browser_cookie: Option<&str>,
    ) -> Result<OidcCallback, SignInError> {
        let (tenant_id, client_id, client_secret) = match self.connection().sign_in_settings_blocking(org)? {
            Some(SignInSettings::AzureAd {
                tenant_id,
                client_id,
                client_secret,
            }) => (tenant_id, client_id, client_secret),
            _ => return Err(SignInError::NoConnection),
        };
        let config = self.entra_config(org, &tenant_id, &client_id)?;
        let state = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .filter(|s| !s.is_empty());
        let Some(state) = state else {
            return Err(self.reject_unverified(org, PROTOCOL_OIDC, "oidc_state_mismatch"));
        };
        let now = self.now_naive();
        let id = browser::digest(&state);
        let pending = self
            .store()
            .write(|conn| sso_signin::consume(conn, org, &id, now))?;
        let pending = match pending {
            Some(p) if p.protocol == PROTOCOL_OIDC => p,
            _ => return Err(self.reject_unverified(org, PROTOCOL_OIDC, "relay_state_unknown")),
        };
        // Only a live pending sign-in of this very browser goes on to the token request (review L-8).
        let cookie = match browser_cookie {
            Some(c) if browser::same_browser(&pending.browser_hash, Some(c)) => c,
            _ => {
                return Err(self.refuse(org, PROTOCOL_OIDC, "browser_mismatch", ANONYMOUS_ACTOR));
            }
        };
        let code = oidc::read_callback(query, &State::from_stored(state.clone()))
            .map_err(|e| self.refuse(org, PROTOCOL_OIDC, e.reason_code(), ANONYMOUS_ACTOR))?;
        Ok(OidcCallback {
            org: org.clone(),
            config,
            code,
            verifier: browser::pkce_verifier(cookie, &state),
            nonce: Nonce::from_stored(pending.request_id),
            client_secret: ClientSecret::from_stored(client_secret.as_str()),
            return_to: pending.return_to,
            caches: self.jwks_caches().clone(),
        })
    }

    /// Records that step 2 refused (its `reason`), and gives the refusal to show. Audited: the browser had
    /// used up its own pending sign-in (the actor is `anonymous`: it was not signed in).
    pub fn oidc_refused_blocking(&self, org: &OrgId, reason: &'static str) -> SignInError {
        self.refuse(org, PROTOCOL_OIDC, reason, ANONYMOUS_ACTOR)
    }

    /// Step 3: the member and the session. `replacing` is the browser's current session cookie.
    pub fn oidc_finish_blocking(
        &self,
        org: &OrgId,
        identity: OidcIdentity,
        replacing: Option<&str>,
    ) -> Result<Finished, SignInError> {
        let claims = &identity.claims;
        let outcome = self
            .sessions()
            .sign_in_sso_blocking(org, PROTOCOL_OIDC, None, replacing, |conn| {
                // `preferred_username` as userName, never the `email` claim (review 3, M-1).
                let names: Vec<&str> = claims.preferred_username.as_deref().into_iter().collect();
                Ok(identity::find_member(
                    conn,
                    org,
                    &[claims.object_id.as_str()],
                    &names,
                )?)
            })?;
        match outcome {
            SsoSignIn::SignedIn(session) => Ok(Finished {
                session,
                return_to: identity.return_to,
            }),
            SsoSignIn::Refused(refusal) => {
                Err(SignInError::refused_returning(refusal.reason, identity.return_to))
            }
        }
    }
}
