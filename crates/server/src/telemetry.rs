//! Logging: tracing-subscriber, human-readable by default or JSON lines, filtered by `RUST_LOG`
//! (default `info`). Request ids come from `tracing-actix-web` and are echoed in `x-request-id`; its root span
//! is [`QuietRootSpan`]: no query string, no forwarded address unless configured, and one line per request
//! when it ends (method, route, path, status, duration, request id).

use crate::config::LogFormat;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use std::io::IsTerminal;
use std::time::Instant;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (tests) keeps the first.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// Where the logged client address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAddr {
    /// The TCP peer: what a client cannot forge.
    Peer,
    /// `Forwarded` / `X-Forwarded-For`, for a deployment behind a proxy that sets them
    /// (`SCIMD_TRUST_FORWARDED_FOR`).
    Forwarded,
}

/// The client's address as scimd sees it everywhere: the TCP peer, or the address a trusted proxy forwarded
/// (`ClientAddr::Forwarded`, a `Forwarded` or `X-Forwarded-For` value that parses as an address, with or
/// without a port). The sign-in throttle keys on it.
pub fn client_ip(request: &ServiceRequest) -> Option<std::net::IpAddr> {
    let forwarded = request
        .app_data::<ClientAddr>()
        .is_some_and(|c| *c == ClientAddr::Forwarded);
    if forwarded && let Some(ip) = request.connection_info().realip_remote_addr().and_then(parse_ip) {
        return Some(ip);
    }
    request.peer_addr().map(|a| a.ip())
}

fn parse_ip(raw: &str) -> Option<std::net::IpAddr> {
    let raw = raw.trim();
    raw.parse()
        .ok()
        .or_else(|| raw.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| raw.trim_start_matches('[').trim_end_matches(']').parse().ok())
}

/// The root span of every request, as `tracing-actix-web` makes it but without what must not reach a log: the
/// target is the path only (a query holds SCIM filters with e-mail addresses, and login-link tokens), escaped
/// by `Debug` formatting (a percent-decoded segment could hold CR/LF), and the client address is the peer's
/// unless the deployment says a proxy in front sets `X-Forwarded-For` (app data [`ClientAddr`]).
pub struct QuietRootSpan;

impl RootSpanBuilder for QuietRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request.extensions_mut().insert(Started(Instant::now()));
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let forwarded = request
            .app_data::<ClientAddr>()
            .is_some_and(|c| *c == ClientAddr::Forwarded);
        let client_ip = if forwarded {
            request.connection_info().realip_remote_addr().map(str::to_owned)
        } else {
            request.peer_addr().map(|a| a.ip().to_string())
        };
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = ?route,
            http.target = ?request.path(),
            http.client_ip = ?client_ip.unwrap_or_default(),
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        if let Ok(response) = outcome {
            let request = response.request();
            let duration_ms = request
                .extensions()
                .get::<Started>()
                .map_or(0.0, |s| s.0.elapsed().as_micros() as f64 / 1000.0);
            let status = response.status().as_u16();
            // Load balancers' probes and scrapers ask every few seconds: their lines would drown the rest.
            let probe = matches!(request.path(), "/healthz" | "/readyz" | "/metrics");
            if probe {
                tracing::debug!(parent: &span, status, duration_ms, "request finished");
            } else {
                tracing::info!(parent: &span, status, duration_ms, "request finished");
            }
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// When the request started, for its line's duration.
struct Started(Instant);
