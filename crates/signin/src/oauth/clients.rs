//! The platform's OAuth clients: registered with their exact redirect URIs (https, or http to loopback) and
//! the algorithm of their ID tokens; the secret is shown once and only its SHA-256 is stored. A client can be
//! revoked (its access tokens die with it) and its secret rotated (review 3, L-2).

use super::{OAuthProvider, ProviderError, digest, random};
use scimd_store::StoreError;
use scimd_store::models::oauth::{self, OAuthClient};
use serde::Serialize;
use std::fmt;

/// The most redirect URIs a client may register, and the longest one.
const MAX_REDIRECT_URIS: usize = 10;
const MAX_REDIRECT_URI_LEN: usize = 2048;

/// A client as created: the secret exists here once.
#[derive(Clone, Serialize)]
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for CreatedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OAuthProvider {
    /// Registers a client; `redirect_uris` are matched exactly (https, or http to loopback); `id_token_alg`
    /// is its `id_token_signed_response_alg` (`RS256` or `EdDSA`).
    pub fn create_client_blocking(
        &self,
        name: &str,
        redirect_uris: &[String],
        id_token_alg: &str,
    ) -> Result<CreatedClient, ProviderError> {
        if !super::keys::ALGORITHMS.contains(&id_token_alg) {
            return Err(ProviderError::InvalidRequest(format!(
                "the ID token algorithm must be one of {}",
                super::keys::ALGORITHMS.join(", ")
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(ProviderError::InvalidRequest(
                "the name must be 1 to 200 characters".into(),
            ));
        }
        if redirect_uris.is_empty() || redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(ProviderError::InvalidRequest(format!(
                "give 1 to {MAX_REDIRECT_URIS} redirect URIs"
            )));
        }
        for uri in redirect_uris {
            check_redirect_uri(uri)?;
        }
        let client_id = format!("scimd_client_{}", uuid_like()?);
        let client_secret = random("scimd_cs_")?;
        let row = OAuthClient {
            id: client_id.clone(),
            name: name.to_owned(),
            secret_hash: digest(&client_secret),
            redirect_uris: serde_json::to_string(redirect_uris).map_err(StoreError::from)?,
            created_at: self.clock.now_naive(),
            revoked_at: None,
            id_token_signed_response_alg: id_token_alg.to_owned(),
        };
        self.store.write(|conn| oauth::insert_client(conn, &row))?;
        tracing::info!(client_id = %client_id, "OAuth client registered");
        Ok(CreatedClient {
            client_id,
            client_secret,
        })
    }

    /// Revokes a client: it authenticates no more and its access tokens are deleted, so userinfo and
    /// introspection refuse them at the next call.
    pub fn revoke_client_blocking(&self, client_id: &str) -> Result<(), ProviderError> {
        let now = self.clock.now_naive();
        if !self
            .store
            .write(|conn| oauth::revoke_client(conn, client_id, now))?
        {
            return Err(ProviderError::InvalidRequest(format!(
                "no live client {client_id:?}"
            )));
        }
        tracing::info!(client_id = %client_id, "OAuth client revoked");
        Ok(())
    }

    /// Gives a live client a new secret (shown once); the previous secret stops working at once.
    pub fn rotate_client_secret_blocking(&self, client_id: &str) -> Result<CreatedClient, ProviderError> {
        let client_secret = random("scimd_cs_")?;
        let hash = digest(&client_secret);
        if !self
            .store
            .write(|conn| oauth::set_client_secret(conn, client_id, &hash))?
        {
            return Err(ProviderError::InvalidRequest(format!(
                "no live client {client_id:?}"
            )));
        }
        tracing::info!(client_id = %client_id, "OAuth client secret rotated");
        Ok(CreatedClient {
            client_id: client_id.to_owned(),
            client_secret,
        })
    }

    pub fn list_clients_blocking(&self) -> Result<Vec<OAuthClient>, ProviderError> {
        Ok(self.store.read(oauth::list_clients)?)
    }
}

fn check_redirect_uri(uri: &str) -> Result<(), ProviderError> {
    let bad = || {
        ProviderError::InvalidRequest(format!(
            "redirect URI {uri:?} must be an absolute https URL (http only to loopback), without a fragment"
        ))
    };
    if uri.len() > MAX_REDIRECT_URI_LEN {
        return Err(bad());
    }
    let url = url::Url::parse(uri).map_err(|_| bad())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok || url.fragment().is_some() || url.host().is_none() {
        return Err(bad());
    }
    Ok(())
}

fn uuid_like() -> Result<String, ProviderError> {
    let bytes = scimd_tokens::random::bytes::<16>().map_err(|_| ProviderError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
