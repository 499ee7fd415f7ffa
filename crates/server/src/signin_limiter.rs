//! Throttling of the public sign-in endpoints (review H-1, M-4, L-8): everything a browser or the platform
//! reaches without a session: `/sso/*`, the e-mail chooser `/admin/sso`, the login-link landing
//! `/admin/login`, and the OpenID Provider (`/oauth/*`, its discovery document).
//!
//! - **Per client address**, the address as the rest of scimd sees it (`telemetry::client_ip`: the peer, or
//!   the forwarded one behind a trusted proxy), an IPv6 address by its /64 (one host holds a whole /64). The
//!   browser endpoints and the OpenID Provider's back channel (`/oauth/token`, `userinfo`, `introspect`,
//!   `jwks`, discovery: one platform backend calls them for all its users) have a bucket each.
//! - **Per org**, where the request names one (`/sso/{org}/...`, `/admin/sso?org=`): a flood spread over
//!   many addresses still cannot take more than that org's share; other orgs keep theirs.
//!
//! The buckets are governor's keyed GCRA limiters. Their memory stays bounded: idle keys are dropped every
//! [`SWEEP_EVERY`] (`retain_recent`), and past [`MAX_TRACKED_KEYS`] live keys new ones share one overflow
//! bucket rather than adding entries. An org is keyed by a keyed hash of its id (decoded as the router
//! decodes it), so made-up ids cost no more memory than real ones.
//!
//! A refused request is 429 with `Retry-After`: the site's error page when the client accepts HTML, else a
//! small JSON object; `scimd_signin_throttled_total{class,scope}` counts them. The defaults never bother a
//! person signing in (a sign-in is three to five of these requests); the README's "Limits" lists them.

use crate::telemetry;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::hash::{BuildHasher, Hash};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sustained requests per second per client address to the browser endpoints.
pub const DEFAULT_ADDR_RATE: u32 = 10;
/// Requests per client address allowed at once above that (an office behind one NAT signing in at 9:00).
pub const DEFAULT_ADDR_BURST: u32 = 100;
/// Sustained requests per second per org to the endpoints that name it.
pub const DEFAULT_ORG_RATE: u32 = 50;
pub const DEFAULT_ORG_BURST: u32 = 500;
/// Sustained requests per second per client address to the OpenID Provider's back channel.
pub const DEFAULT_OAUTH_RATE: u32 = 100;
pub const DEFAULT_OAUTH_BURST: u32 = 1000;
/// Most keys a limiter tracks; past it, new keys share one bucket until the next sweep.
pub const MAX_TRACKED_KEYS: usize = 100_000;
/// How often idle keys are dropped.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// The sign-in endpoints' limits (the server's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub addr_rate: NonZeroU32,
    pub addr_burst: NonZeroU32,
    pub org_rate: NonZeroU32,
    pub org_burst: NonZeroU32,
    pub oauth_rate: NonZeroU32,
    pub oauth_burst: NonZeroU32,
    /// Live pending sign-ins per org (`scimd_signin::SignInService::with_pending_cap`).
    pub pending_per_org: NonZeroU32,
}

fn nz(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN)
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            addr_rate: nz(DEFAULT_ADDR_RATE),
            addr_burst: nz(DEFAULT_ADDR_BURST),
            org_rate: nz(DEFAULT_ORG_RATE),
            org_burst: nz(DEFAULT_ORG_BURST),
            oauth_rate: nz(DEFAULT_OAUTH_RATE),
            oauth_burst: nz(DEFAULT_OAUTH_BURST),
            pending_per_org: nz(scimd_signin::DEFAULT_PENDING_PER_ORG),
        }
    }
}

/// Which bucket of an address a path spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Browser,
    OAuth,
}

impl Class {
    fn label(self) -> &'static str {
        match self {
            Class::Browser => "browser",
            Class::OAuth => "oauth",
        }
    }
}

/// The class of a public sign-in path and the org it names, if any; `None` for every other path.
fn classify(path: &str, query: &str) -> Option<(Class, Option<String>)> {
    match path {
        "/admin/sso" => {
            let org = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "org")
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            return Some((Class::Browser, org));
        }
        "/admin/login" | "/oauth/authorize" => return Some((Class::Browser, None)),
        "/.well-known/openid-configuration" | "/oauth" => return Some((Class::OAuth, None)),
        _ => {}
    }
    if path.starts_with("/oauth/") {
        return Some((Class::OAuth, None));
    }
    let rest = path.strip_prefix("/sso/")?;
    let mut segments = rest.split('/');
    let org = match segments.next() {
        Some("saml" | "oidc") => segments.next(),
        first => first,
    };
    Some((Class::Browser, org.filter(|o| !o.is_empty()).map(decode)))
}

/// A path segment percent-decoded as the router decodes it, so that `%61bc` and `abc` share a bucket.
fn decode(segment: &str) -> String {
    let escaped = segment.replace('+', "%2B");
    url::form_urlencoded::parse(format!("o={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

/// An address as a bucket key: IPv6 by its /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whole seconds (RFC 9110), rounded up, never 0.
fn retry_after(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn quota(rate: NonZeroU32, burst: NonZeroU32) -> Quota {
    Quota::per_second(rate).allow_burst(burst)
}

struct Inner {
    browser: DefaultKeyedRateLimiter<IpAddr>,
    oauth: DefaultKeyedRateLimiter<IpAddr>,
    orgs: DefaultKeyedRateLimiter<u64>,
    org_key: std::hash::RandomState,
    clock: DefaultClock,
    last_sweep: Mutex<Instant>,
}

/// The limiter of one process; cheap to clone (every clone shares the buckets).
#[derive(Clone)]
pub struct SignInLimiter {
    inner: Arc<Inner>,
    limits: SignInLimits,
    throttled: Option<prometheus::IntCounterVec>,
}

impl std::fmt::Debug for SignInLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Why a request was refused: after how long to retry, and which bucket was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
    pub scope: &'static str,
}

/// The counter of refused requests, for the server's `/metrics`.
pub fn throttled_counter() -> prometheus::Result<prometheus::IntCounterVec> {
    prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "scimd_signin_throttled_total",
            "Requests to the public sign-in endpoints refused with 429, by class and by the bucket that was empty",
        ),
        &["class", "scope"],
    )
}

impl SignInLimiter {
    pub fn new(limits: SignInLimits) -> SignInLimiter {
        SignInLimiter {
            inner: Arc::new(Inner {
                browser: DefaultKeyedRateLimiter::keyed(quota(limits.addr_rate, limits.addr_burst)),
                oauth: DefaultKeyedRateLimiter::keyed(quota(limits.oauth_rate, limits.oauth_burst)),
                orgs: DefaultKeyedRateLimiter::keyed(quota(limits.org_rate, limits.org_burst)),
                org_key: std::hash::RandomState::new(),
                clock: DefaultClock::default(),
                last_sweep: Mutex::new(Instant::now()),
            }),
            limits,
            throttled: None,
        }
    }

    /// The same limiter, counting refusals in `counter` (see [`throttled_counter`]).
    pub fn with_counter(mut self, counter: prometheus::IntCounterVec) -> SignInLimiter {
        self.throttled = Some(counter);
        self
    }

    pub fn limits(&self) -> SignInLimits {
        self.limits
    }

    /// Spends one request of `ip` (and of `org`, if named) in `class`'s buckets, or says which is empty.
    fn check(&self, class: Class, ip: Option<IpAddr>, org: Option<&str>) -> Result<(), Throttled> {
        self.sweep_if_due();
        let inner = &self.inner;
        let by_address = match class {
            Class::Browser => &inner.browser,
            Class::OAuth => &inner.oauth,
        };
        // Without an address (a Unix socket, a test harness) every such request shares one bucket.
        let ip = address_key(ip.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        let ip = bounded(by_address, ip, IpAddr::V6(Ipv6Addr::LOCALHOST));
        let refused = |not_until: governor::NotUntil<_>, scope| Throttled {
            retry_after_secs: retry_after(not_until.wait_time_from(inner.clock.now())),
            scope,
        };
        by_address.check_key(&ip).map_err(|n| refused(n, "address"))?;
        if let Some(org) = org {
            let key = bounded(&inner.orgs, inner.org_key.hash_one(org), u64::MAX);
            inner.orgs.check_key(&key).map_err(|n| refused(n, "org"))?;
        }
        Ok(())
    }

    /// Drops the keys whose buckets are full again (indistinguishable from new ones), at most every
    /// [`SWEEP_EVERY`]; whichever request finds it due does it, the others do not wait for it.
    fn sweep_if_due(&self) {
        let Ok(mut last) = self.inner.last_sweep.try_lock() else {
            return;
        };
        if last.elapsed() < SWEEP_EVERY {
            return;
        }
        *last = Instant::now();
        for limiter in [&self.inner.browser, &self.inner.oauth] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.inner.orgs.retain_recent();
        self.inner.orgs.shrink_to_fit();
    }
}

/// `key`, or `overflow` when the limiter already tracks its most keys (and `key` would be a new one).
fn bounded<K: Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: K, overflow: K) -> K {
    if limiter.len() >= MAX_TRACKED_KEYS {
        overflow
    } else {
        key
    }
}

/// The middleware: lets every other path through untouched, and refuses a sign-in path over its limits.
pub async fn throttle(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limiter = req.app_data::<SignInLimiter>().cloned();
    let target = limiter
        .as_ref()
        .and_then(|_| classify(req.path(), req.query_string()));
    let (Some(limiter), Some((class, org))) = (limiter, target) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let ip = telemetry::client_ip(&req);
    match limiter.check(class, ip, org.as_deref()) {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(throttled) => {
            if let Some(counter) = &limiter.throttled {
                counter.with_label_values(&[class.label(), throttled.scope]).inc();
            }
            tracing::debug!(
                class = class.label(),
                scope = throttled.scope,
                "sign-in endpoint throttled"
            );
            let response = too_many(&req, throttled);
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// 429 with `Retry-After`: the site's error page for a browser, a JSON object for anything else.
fn too_many(req: &ServiceRequest, throttled: Throttled) -> HttpResponse {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let mut response = if wants_html {
        scimd_admin::AdminError::TooManyRequests {
            retry_after_secs: throttled.retry_after_secs,
        }
        .error_response()
    } else {
        HttpResponse::TooManyRequests().json(serde_json::json!({
            "error": "too_many_requests",
            "error_description": "too many requests from this address or to this organization; retry later",
        }))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(throttled.retry_after_secs),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_paths_and_their_orgs() {
        let org = |p: &str, q: &str| classify(p, q).map(|(c, o)| (c, o.unwrap_or_default()));
        assert_eq!(org("/sso/abc/start", ""), Some((Class::Browser, "abc".into())));
        assert_eq!(org("/sso/saml/abc/acs", ""), Some((Class::Browser, "abc".into())));
        assert_eq!(
            org("/sso/oidc/%61bc/callback", ""),
            Some((Class::Browser, "abc".into()))
        );
        assert_eq!(
            org("/admin/sso", "email=a%40b&org=xyz"),
            Some((Class::Browser, "xyz".into()))
        );
        assert_eq!(
            org("/admin/sso", "email=a%40b"),
            Some((Class::Browser, String::new()))
        );
        assert_eq!(
            org("/admin/login", "token=t"),
            Some((Class::Browser, String::new()))
        );
        assert_eq!(org("/oauth/authorize", ""), Some((Class::Browser, String::new())));
        assert_eq!(org("/oauth/token", ""), Some((Class::OAuth, String::new())));
        assert_eq!(
            org("/.well-known/openid-configuration", ""),
            Some((Class::OAuth, String::new()))
        );
        for other in [
            "/admin",
            "/admin/orgs/x/sso",
            "/scim/v2/x/Users",
            "/ssox",
            "/metrics",
        ] {
            assert_eq!(classify(other, ""), None, "{other}");
        }
    }

    #[test]
    fn an_ipv6_host_is_its_64_and_a_mapped_v4_is_the_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_address_is_refused_past_its_burst_and_another_is_not() {
        let limits = SignInLimits {
            addr_rate: nz(1),
            addr_burst: nz(3),
            ..SignInLimits::default()
        };
        let limiter = SignInLimiter::new(limits);
        let one = Some("192.0.2.1".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(limiter.check(Class::Browser, one, None), Ok(()));
        }
        let refused = limiter.check(Class::Browser, one, None).unwrap_err();
        assert_eq!(refused.scope, "address");
        assert!(refused.retry_after_secs >= 1);
        // Another address, and the same address's back-channel bucket, are untouched.
        assert_eq!(
            limiter.check(Class::Browser, Some("192.0.2.2".parse().unwrap()), None),
            Ok(())
        );
        assert_eq!(limiter.check(Class::OAuth, one, None), Ok(()));
    }

    #[test]
    fn an_org_is_refused_past_its_burst_from_any_address() {
        let limits = SignInLimits {
            org_rate: nz(1),
            org_burst: nz(2),
            ..SignInLimits::default()
        };
        let limiter = SignInLimiter::new(limits);
        let from = |i: u8| Some(IpAddr::from([192, 0, 2, i]));
        assert_eq!(limiter.check(Class::Browser, from(1), Some("a")), Ok(()));
        assert_eq!(limiter.check(Class::Browser, from(2), Some("a")), Ok(()));
        let refused = limiter.check(Class::Browser, from(3), Some("a")).unwrap_err();
        assert_eq!(refused.scope, "org");
        assert_eq!(limiter.check(Class::Browser, from(3), Some("b")), Ok(()));
    }

    #[test]
    fn idle_keys_are_swept_so_memory_stays_bounded() {
        let limiter = SignInLimiter::new(SignInLimits::default());
        for i in 0..200u8 {
            limiter
                .check(Class::Browser, Some(IpAddr::from([10, 0, 0, i])), None)
                .unwrap();
        }
        assert_eq!(limiter.inner.browser.len(), 200);
        // The sweep drops keys indistinguishable from new ones: at 10/s, 200 ms after their one request.
        std::thread::sleep(Duration::from_millis(500));
        *limiter.inner.last_sweep.lock().unwrap() = Instant::now() - SWEEP_EVERY;
        limiter.sweep_if_due();
        assert_eq!(limiter.inner.browser.len(), 0);
    }
}
