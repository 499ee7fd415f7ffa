//! `AdminState`: the services the admin pages call, built once by the server and shared by every worker, and
//! `blocking`, the one way a handler reaches them (their methods block on the database).

use crate::error::AdminError;
use scimd_signin::ConnectionService;
use scimd_store::{Clock, Store, StoreError};
use scimd_tokens::{SessionService, TokenService};
use std::sync::Arc;

/// The limits a server applies to an org that set none of its own (the server's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitDefaults {
    pub rate: u32,
    pub burst: u32,
    pub in_flight: u32,
}

impl Default for LimitDefaults {
    /// The SCIM API's compiled defaults (`SCIMD_ORG_RATE`, `SCIMD_ORG_BURST`, `SCIMD_ORG_IN_FLIGHT` unset).
    fn default() -> Self {
        LimitDefaults {
            rate: 50,
            burst: 200,
            in_flight: 8,
        }
    }
}

#[derive(Clone)]
pub struct AdminState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenService,
    pub sessions: SessionService,
    /// The org's SSO connection (the settings page's connection card).
    pub connection: ConnectionService,
    /// Where browsers reach this server, without a trailing slash.
    pub public_url: String,
    /// The SCIM API's limits for orgs that set none of their own (shown on the limits card).
    pub limit_defaults: LimitDefaults,
    /// The org's webhook endpoints (the webhooks page).
    pub webhooks: scimd_webhooks::WebhookService,
    /// Sign-in through the org's SSO connection (`/sso/...`).
    pub signin: scimd_signin::SignInService,
    /// "Sign in with scimd": the OpenID Provider for the platform (`/oauth/...`).
    pub provider: scimd_signin::oauth::OAuthProvider,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl AdminState {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        tokens: TokenService,
        sessions: SessionService,
        connection: ConnectionService,
        public_url: &str,
    ) -> AdminState {
        AdminState {
            provider: scimd_signin::oauth::OAuthProvider::new(store.clone(), clock.clone(), public_url, None),
            signin: scimd_signin::SignInService::new(
                store.clone(),
                clock.clone(),
                sessions.clone(),
                connection.clone(),
                public_url,
            ),
            webhooks: scimd_webhooks::WebhookService::new(
                store.clone(),
                clock.clone(),
                None,
                scimd_webhooks::AddressPolicy::default(),
            ),
            store,
            clock,
            tokens,
            sessions,
            connection,
            public_url: public_url.trim_end_matches('/').to_owned(),
            limit_defaults: LimitDefaults::default(),
        }
    }

    /// The same state, showing the server's own default limits (`SCIMD_ORG_RATE` and the like).
    pub fn with_limit_defaults(mut self, defaults: LimitDefaults) -> AdminState {
        self.limit_defaults = defaults;
        self
    }

    /// The same state, with the server's webhook service (its secret key and address policy).
    pub fn with_webhooks(mut self, webhooks: scimd_webhooks::WebhookService) -> AdminState {
        self.webhooks = webhooks;
        self
    }

    /// The same state, sealing the OpenID Provider's signing keys under the server's secret key (`None`: the
    /// key stored in the database, as for the other secrets).
    pub fn with_provider_secret_key(mut self, key: Option<scimd_tokens::SecretKey>) -> AdminState {
        self.provider = scimd_signin::oauth::OAuthProvider::new(
            self.store.clone(),
            self.clock.clone(),
            &self.public_url,
            key,
        );
        self
    }

    /// The same state, signing in to Azure AD connections through this Entra ID authority.
    pub fn with_entra_authority(mut self, authority: &str) -> AdminState {
        self.signin = self.signin.with_entra_authority(authority);
        self
    }

    /// The same state, with at most `cap` live pending sign-ins per org.
    pub fn with_signin_pending_cap(mut self, cap: u32) -> AdminState {
        self.signin = self.signin.with_pending_cap(cap);
        self
    }

    /// Runs `f` (calls of the blocking services) on the blocking pool, off the actix worker: once per
    /// request step, rather than an async copy of every service method.
    pub async fn blocking<T, E, F>(&self, f: F) -> Result<T, AdminError>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        AdminError: From<E>,
        F: FnOnce(&AdminState) -> Result<T, E> + Send + 'static,
    {
        let state = self.clone();
        Ok(scimd_store::blocking(move || f(&state)).await?)
    }

    /// Over https the session cookie is `Secure` and carries the `__Host-` prefix.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The public URL's origin (`scheme://host[:port]`), which every form POST must come from.
    pub fn public_origin(&self) -> Option<String> {
        url::Url::parse(&self.public_url)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    }
}
