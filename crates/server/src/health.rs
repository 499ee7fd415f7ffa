//! Probes: `/healthz` says the process serves requests (it stays 200 while the database is away: restarting
//! the process would not bring the database back); `/readyz` says whether the database answers, from the
//! store's availability as the background probe ([`spawn_probe`]) and the requests keep it, so that it
//! answers at once, never after waiting on the database.

use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use scimd_store::Store;
use serde_json::json;
use std::time::Duration;

/// How often the background probe checks the database.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long a probe may wait on the database before `/readyz` says 503 while it still waits (a server that
/// stopped answering without closing its connections).
pub const PROBE_PATIENCE: Duration = Duration::from_secs(1);
/// `Retry-After` of a 503 while the database is unavailable, on every surface.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.store.availability().is_ready(PROBE_PATIENCE) {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        // The reason (the driver's words) is in the log, said once when the database went away.
        HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS))
            .json(json!({"status": "unavailable", "reason": "database"}))
    }
}

/// Spawns the readiness probe on the current actix/tokio runtime: every [`PROBE_EVERY`] it checks that the
/// database answers (`Store::probe`), which keeps `/readyz` current when no request comes and notices the
/// database's return.
pub fn spawn_probe(store: Store) {
    actix_web::rt::spawn(async move {
        let mut every = tokio::time::interval(PROBE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let store = store.clone();
            // The outcome is recorded in the store's availability (and its transitions logged there).
            let _ = scimd_store::blocking(move || store.probe(PROBE_PATIENCE)).await;
        }
    });
}
