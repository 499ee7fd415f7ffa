//! `scimd serve`: the HTTP server with its middleware (request ids and tracing, never with a query string;
//! Prometheus metrics at `/metrics` labelled by route pattern, never by raw path), and graceful shutdown on
//! SIGINT/SIGTERM.

use crate::activity::{self, ActivityRecorder};
use crate::app::{self, AppState};
use crate::store_metrics::StoreMetrics;
use crate::telemetry::{ClientAddr, QuietRootSpan};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;
use tracing_actix_web::{RequestId, TracingLogger};

/// Seconds in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE_SECS: u64 = 30;

/// A started server: the address it listens on (useful with port 0) and the future that runs it.
pub struct Running {
    pub addr: SocketAddr,
    pub server: Server,
    activity_writer: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Serves until shutdown, then lets the activity writer store what is still queued.
    pub async fn run_to_end(self) -> std::io::Result<()> {
        self.server.await?;
        if tokio::time::timeout(Duration::from_secs(5), self.activity_writer)
            .await
            .is_err()
        {
            tracing::warn!("provisioning activity still queued at shutdown was not stored");
        }
        Ok(())
    }
}

/// Starts the server on a bound listener (`ServeConfig::listen`); call from within an actix `System` (the
/// activity writer is spawned on it).
pub fn start(
    listener: TcpListener,
    workers: Option<usize>,
    client_addr: ClientAddr,
    event_retention: chrono::Duration,
    mut state: AppState,
) -> std::io::Result<Running> {
    let metrics = PrometheusMetricsBuilder::new("scimd")
        .endpoint("/metrics")
        .mask_unmatched_patterns("UNMATCHED")
        .build()
        .map_err(|e| std::io::Error::other(format!("metrics registry: {e}")))?;
    let registry_error = |e: prometheus::Error| std::io::Error::other(format!("metrics registry: {e}"));
    StoreMetrics::new(state.store.clone())
        .and_then(|m| metrics.registry.register(Box::new(m)))
        .map_err(registry_error)?;
    let unauthenticated = activity::unauthenticated_counter().map_err(registry_error)?;
    metrics
        .registry
        .register(Box::new(unauthenticated.clone()))
        .map_err(registry_error)?;
    // The sign-in edge's figures (review H-1): refusals nobody verified, and throttled requests.
    let unverified = scimd_signin::unverified_refusals_counter().map_err(registry_error)?;
    let throttled = crate::signin_limiter::throttled_counter().map_err(registry_error)?;
    for counter in [&unverified, &throttled] {
        metrics
            .registry
            .register(Box::new(counter.clone()))
            .map_err(registry_error)?;
    }
    state.admin.signin = state.admin.signin.clone().with_unverified_counter(unverified);
    state.signin_limits = state.signin_limits.clone().with_counter(throttled);
    let signin_limits = state.signin_limits.clone();
    let (recorder, activity_writer) =
        ActivityRecorder::start(state.store.clone(), state.clock.clone(), unauthenticated);
    let recorder = web::Data::new(recorder);
    crate::sequencer::spawn(state.store.clone(), state.clock.clone(), event_retention);
    crate::health::spawn_probe(state.store.clone());
    crate::role_jobs::spawn(state.store.clone(), state.clock.clone());
    scimd_webhooks::Worker::new(state.webhooks.clone(), scimd_webhooks::WorkerSettings::default()).spawn();
    scimd_ssf::PushWorker::new(state.ssf.clone(), scimd_ssf::PushSettings::default()).spawn();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(recorder.clone())
            .app_data(client_addr)
            .app_data(signin_limits.clone())
            .wrap(from_fn(activity::record_scim_activity))
            .wrap(from_fn(crate::signin_limiter::throttle))
            .wrap(metrics.clone())
            .wrap(from_fn(echo_request_id))
            .wrap(TracingLogger::<QuietRootSpan>::new())
            .configure(|cfg| app::configure(&state, cfg))
    })
    .shutdown_timeout(SHUTDOWN_GRACE_SECS);
    let server = match workers {
        Some(n) => server.workers(n),
        None => server,
    };
    let server = server.listen(listener)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("bound to no address"))?;
    Ok(Running {
        addr,
        server: server.run(),
        activity_writer,
    })
}

/// Returns the request id (assigned by `TracingLogger` and present in every log line of the request) to the
/// client, so that a support ticket can quote it.
async fn echo_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().copied();
    let mut res = next.call(req).await?;
    if let Some(id) = id
        && let Ok(value) = HeaderValue::from_str(&id.to_string())
    {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
