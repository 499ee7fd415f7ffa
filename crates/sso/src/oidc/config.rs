//! [`EntraConfig`]: one org's Entra connection and the endpoints of its tenant-specific v2.0 authority
//! (O1). The authority base is a setting so tests can point it at a fake provider on loopback; plain
//! `http://` is refused anywhere else.

use super::secrets::{self, Nonce, PkceVerifier, State};
use super::{OidcError, error};
use crate::url_policy;
use chrono::TimeDelta;

/// Entra's public cloud.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Leeway for `exp`, `nbf` and `iat` (`crates/sso/README.md`: at most 5 minutes).
pub const DEFAULT_LEEWAY: TimeDelta = TimeDelta::minutes(3);
/// The Microsoft-account (consumer) tenant: never an org's directory.
const MSA_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// One org's Entra ID connection.
#[derive(Debug, Clone)]
pub struct EntraConfig {
    authority: String,
    tenant_id: String,
    client_id: String,
    redirect_uri: String,
    leeway: TimeDelta,
}

/// What [`EntraConfig::start`] makes: redirect the browser to `authorize_url`; store `state`, `nonce` and
/// `pkce_verifier` server-side with the pending sign-in (the state bound to a browser cookie, single use).
#[derive(Debug)]
pub struct AuthorizationStart {
    pub authorize_url: String,
    pub state: State,
    pub nonce: Nonce,
    pub pkce_verifier: PkceVerifier,
}

impl EntraConfig {
    /// `authority` is the base (e.g. [`DEFAULT_AUTHORITY`]); tenant and client IDs are GUIDs;
    /// `redirect_uri` is this org's callback, e.g. `{public_url}/sso/oidc/{org}/callback`.
    pub fn new(
        authority: &str,
        tenant_id: &str,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<Self, OidcError> {
        let base = authority.trim_end_matches('/');
        let url = url_policy::https_or_loopback(base).ok_or(OidcError::BadAuthority)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(OidcError::BadAuthority);
        }
        let tenant_id = tenant_id.to_ascii_lowercase();
        if !is_guid(&tenant_id) || tenant_id == MSA_TENANT {
            return Err(OidcError::BadTenant);
        }
        if !is_guid(client_id) {
            return Err(OidcError::BadClientId);
        }
        url_policy::https_or_loopback(redirect_uri).ok_or(OidcError::BadRedirectUri)?;
        Ok(Self {
            authority: base.to_owned(),
            tenant_id,
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            leeway: DEFAULT_LEEWAY,
        })
    }

    /// Override the time leeway (at most 5 minutes).
    pub fn with_leeway(mut self, leeway: TimeDelta) -> Self {
        self.leeway = leeway.clamp(TimeDelta::zero(), TimeDelta::minutes(5));
        self
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    pub fn leeway(&self) -> TimeDelta {
        self.leeway
    }

    /// `{authority}/{tenant}/v2.0`: the exact `iss` of this tenant's v2.0 ID tokens.
    pub fn issuer(&self) -> String {
        format!("{}/{}/v2.0", self.authority, self.tenant_id)
    }

    pub fn authorize_endpoint(&self) -> String {
        format!("{}/{}/oauth2/v2.0/authorize", self.authority, self.tenant_id)
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.authority, self.tenant_id)
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/{}/discovery/v2.0/keys", self.authority, self.tenant_id)
    }

    /// Make fresh `state`, `nonce` and PKCE verifier and the authorize URL that carries them.
    pub fn start(&self) -> Result<AuthorizationStart, OidcError> {
        let state = secrets::fresh(State::from_stored)?;
        let nonce = secrets::fresh(Nonce::from_stored)?;
        let pkce_verifier = secrets::fresh(PkceVerifier::from_stored)?;
        let authorize_url = self.authorize_url(&state, &nonce, &pkce_verifier.challenge());
        Ok(AuthorizationStart {
            authorize_url,
            state,
            nonce,
            pkce_verifier,
        })
    }

    /// The authorize URL: code flow, query response mode (Lax cookies arrive on the top-level GET), S256.
    pub fn authorize_url(&self, state: &State, nonce: &Nonce, code_challenge: &str) -> String {
        self.authorize_url_with(state, nonce, code_challenge, false)
    }

    /// [`EntraConfig::authorize_url`], and with `prompt_login` Entra authenticates the user afresh
    /// (`prompt=login`) rather than rely on its own session.
    pub fn authorize_url_with(
        &self,
        state: &State,
        nonce: &Nonce,
        code_challenge: &str,
        prompt_login: bool,
    ) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("client_id", &self.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("response_mode", "query")
            .append_pair("scope", "openid profile email")
            .append_pair("state", state.expose())
            .append_pair("nonce", nonce.expose())
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256");
        if prompt_login {
            query.append_pair("prompt", "login");
        }
        format!("{}?{}", self.authorize_endpoint(), query.finish())
    }
}

/// `8-4-4-4-12` hex digits.
fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

// Used by the token exchange to keep IdP error text short.
pub(crate) fn short(value: &str) -> String {
    error::sanitize(value)
}
