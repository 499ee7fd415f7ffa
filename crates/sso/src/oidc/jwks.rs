//! The tenant's signing keys. [`Jwks`] keeps the RSA keys usable for RS256 signatures, by `kid`;
//! [`JwksCache`] holds the current set, refetches it when it is older than a day, and refetches once when a
//! token names a `kid` it does not know (Entra rolls keys with "no set or guaranteed time"), but never more
//! often than every few minutes, so a stream of made-up `kid`s cannot turn scimd into a JWKS hammer (O8).
//! If a refetch fails while keys are cached, the cached keys keep working.

use super::OidcError;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use std::future::Future;

/// JWKS documents are a few KiB; this bounds what a hostile or broken endpoint can make us parse.
pub const MAX_JWKS_LEN: usize = 256 * 1024;
const MAX_KEYS: usize = 64;

/// Fetches the JWKS document (the body text) from `jwks_uri`. The real one is [`super::http::HttpClient`];
/// tests use an in-memory one.
pub trait JwksFetcher {
    fn fetch_jwks(&self, jwks_uri: &str) -> impl Future<Output = Result<String, OidcError>>;
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
struct RawKey {
    kty: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
    issuer: Option<String>,
}

#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) kid: String,
    pub(crate) decoding: DecodingKey,
    /// Entra's per-key `issuer` (sometimes with a literal `{tenantid}`), checked against the expected issuer.
    pub(crate) issuer: Option<String>,
}

/// A tenant's RS256 signing keys.
#[derive(Clone, Default)]
pub struct Jwks {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks").field("kids", &self.kids()).finish()
    }
}

impl Jwks {
    /// Parse a JWKS document, keeping RSA keys meant for signatures (`use` absent or `sig`, `alg` absent or
    /// RS256) that have a `kid`. Other keys are skipped, not errors: Entra may publish more than we use.
    pub fn parse(json: &str) -> Result<Self, OidcError> {
        if json.len() > MAX_JWKS_LEN {
            return Err(OidcError::JwksInvalid);
        }
        let raw: RawSet = serde_json::from_str(json).map_err(|_| OidcError::JwksInvalid)?;
        if raw.keys.len() > MAX_KEYS {
            return Err(OidcError::JwksInvalid);
        }
        let mut keys = Vec::new();
        for k in raw.keys {
            let usable = k.kty == "RSA"
                && k.use_.as_deref().is_none_or(|u| u == "sig")
                && k.alg.as_deref().is_none_or(|a| a == "RS256");
            let (Some(kid), Some(n), Some(e), true) = (k.kid, k.n, k.e, usable) else {
                continue;
            };
            let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|_| OidcError::JwksInvalid)?;
            keys.push(Key {
                kid,
                decoding,
                issuer: k.issuer,
            });
        }
        Ok(Self { keys })
    }

    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.find(kid).is_some()
    }

    pub(crate) fn find(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// The cached JWKS of one tenant. Not shared by itself: wrap it in the caller's lock (one per tenant).
#[derive(Debug)]
pub struct JwksCache {
    jwks_uri: String,
    current: Option<Jwks>,
    /// The last successful fetch (ages the keys) and the last attempt (rate-limits refetches).
    loaded_at: Option<DateTime<Utc>>,
    attempted_at: Option<DateTime<Utc>>,
    max_age: TimeDelta,
    min_refetch_interval: TimeDelta,
}

impl JwksCache {
    /// An empty cache for `jwks_uri` (see [`super::EntraConfig::jwks_uri`]): keys live 24 hours, and an unknown
    /// `kid` refetches at most every 5 minutes.
    pub fn new(jwks_uri: impl Into<String>) -> Self {
        Self {
            jwks_uri: jwks_uri.into(),
            current: None,
            loaded_at: None,
            attempted_at: None,
            max_age: TimeDelta::hours(24),
            min_refetch_interval: TimeDelta::minutes(5),
        }
    }

    pub fn with_max_age(mut self, max_age: TimeDelta) -> Self {
        self.max_age = max_age;
        self
    }

    pub fn with_min_refetch_interval(mut self, interval: TimeDelta) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// The key set holding `kid`, fetching or refetching as described in the module docs.
    pub async fn keys_for<F: JwksFetcher>(
        &mut self,
        fetcher: &F,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<&Jwks, OidcError> {
        let may_refetch = |cache: &Self| {
            cache
                .attempted_at
                .is_none_or(|t| now - t >= cache.min_refetch_interval)
        };
        let stale = self.loaded_at.is_none_or(|t| now - t >= self.max_age);
        if self.current.is_none() || (stale && may_refetch(self)) {
            let refreshed = self.refresh(fetcher, now).await;
            if self.current.is_none() {
                refreshed?;
            }
        }
        let known = self.current.as_ref().is_some_and(|j| j.contains(kid));
        if !known && may_refetch(self) {
            // An unknown kid: the tenant may have rolled its keys. One refetch, then the verdict.
            let _ = self.refresh(fetcher, now).await;
        }
        match &self.current {
            Some(jwks) if jwks.contains(kid) => Ok(jwks),
            _ => Err(OidcError::UnknownKid),
        }
    }

    async fn refresh<F: JwksFetcher>(&mut self, fetcher: &F, now: DateTime<Utc>) -> Result<(), OidcError> {
        // The attempt counts for rate limiting even when it fails.
        let attempt = fetcher
            .fetch_jwks(&self.jwks_uri)
            .await
            .and_then(|body| Jwks::parse(&body));
        self.attempted_at = Some(now);
        self.current = Some(attempt?);
        self.loaded_at = Some(now);
        Ok(())
    }
}
