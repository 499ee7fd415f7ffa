//! Bearer authentication of every SCIM request, and the units of work that run after it.
//!
//! The org comes from the token: the URL's org must be the token's, and every query is scoped to it. Unknown,
//! malformed, revoked, expired and wrong-org tokens all get the same 401 (see `error.rs`).
//!
//! [`read`] and [`write`] verify the token and run the database work in ONE trip to the blocking pool: a
//! lookup is then one hop off the async workers, not two (the token check is itself a database read).

use crate::scim_api::error::ScimApiError;
use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::http::header;
use scimd_scim::ScimError;
use scimd_store::provisioning::{ScimStoreError, WriteCtx};
use scimd_store::{DbConnection, OrgId};

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: OrgId,
    /// The token's non-secret hint, for the audit trail.
    pub hint: String,
}

impl Caller {
    /// The audit actor of this caller's writes.
    pub fn actor(&self) -> String {
        format!("idp:{}", self.hint)
    }
}

/// The org of the URL and the `Authorization` header, taken out of the request for the blocking pool.
struct Credentials {
    url_org: OrgId,
    authorization: Option<String>,
}

fn credentials(req: &HttpRequest) -> Credentials {
    Credentials {
        url_org: OrgId::new(req.match_info().get("org").unwrap_or_default()),
        authorization: req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// Verifies the caller only (discovery documents, `/Me`).
pub async fn verify(state: &AppState, req: &HttpRequest) -> Result<Caller, ScimApiError> {
    let c = credentials(req);
    let v = state
        .tokens
        .verify(&c.url_org, c.authorization.as_deref())
        .await?;
    Ok(Caller {
        org: v.org_id,
        hint: v.hint,
    })
}

/// Verifies the caller, then runs `f` as one read transaction of the caller's org.
pub async fn read<T, F>(state: &AppState, req: &HttpRequest, f: F) -> Result<(Caller, T), ScimApiError>
where
    T: Send + 'static,
    F: FnOnce(&Caller, &mut DbConnection) -> Result<T, ScimStoreError> + Send + 'static,
{
    let c = credentials(req);
    let (tokens, store) = (state.tokens.clone(), state.store.clone());
    scimd_store::blocking(move || {
        let v = tokens.verify_blocking(&c.url_org, c.authorization.as_deref())?;
        let caller = Caller {
            org: v.org_id,
            hint: v.hint,
        };
        let t = store.read_consistent(|conn| f(&caller, conn))?;
        Ok((caller, t))
    })
    .await
}

/// Verifies the caller, then runs `f` as one write transaction of the caller's org. `f` gets the
/// [`WriteCtx`] (org, audit actor, time) its writes record.
pub async fn write<T, F>(state: &AppState, req: &HttpRequest, f: F) -> Result<(Caller, T), ScimApiError>
where
    T: Send + 'static,
    F: FnOnce(&WriteCtx, &mut DbConnection) -> Result<T, ScimStoreError> + Send + 'static,
{
    write_with(state, req, || Ok(()), move |ctx, conn, ()| f(ctx, conn)).await
}

/// [`write`] with a `prepare` step (parsing and validating the body) that runs after the token check and
/// before the write: on SQLite the write waits for the one writer of the file and its batch, and work that
/// needs no database should not hold them.
pub async fn write_with<P: Send + 'static, T, Prep, F>(
    state: &AppState,
    req: &HttpRequest,
    prepare: Prep,
    f: F,
) -> Result<(Caller, T), ScimApiError>
where
    T: Send + 'static,
    Prep: FnOnce() -> Result<P, ScimError> + Send + 'static,
    F: FnOnce(&WriteCtx, &mut DbConnection, P) -> Result<T, ScimStoreError> + Send + 'static,
{
    let c = credentials(req);
    let (tokens, store, clock) = (state.tokens.clone(), state.store.clone(), state.clock.clone());
    scimd_store::blocking(move || {
        let v = tokens.verify_blocking(&c.url_org, c.authorization.as_deref())?;
        let caller = Caller {
            org: v.org_id,
            hint: v.hint,
        };
        let prepared = prepare()?;
        let ctx = WriteCtx {
            org: caller.org.clone(),
            actor: caller.actor(),
            now: clock.now_naive(),
        };
        let t = store.write_owned(move |conn| f(&ctx, conn, prepared))?;
        Ok((caller, t))
    })
    .await
}
