//! Bearer authentication of every SCIM request, and the units of work that run after it.
//!
//! The org comes from the token: the URL's org must be the token's, and every query is scoped to it. Unknown,
//! malformed, revoked, expired and wrong-org tokens all get the same 401 (see `error.rs`).
//!
//! Before the token, a credential-check slot of the URL's org (a few per org, waited for briefly): a flood at
//! one org's URL cannot take the database connections everyone's token checks need. After the token, the
//! org's limits (`org_limiter`): over them the request is 429 before any other database work, and an
//! admitted request holds one of the org's in-flight slots until its database work is done.
//!
//! [`read`] and [`write()`] verify the token and run the database work in ONE trip to the blocking pool: a
//! lookup is then one hop off the async workers, not two (the token check is itself a database read). A
//! read also checks the token on its own connection, inside its transaction: one pool check-out a request.
//! Requests with a body ([`read_body`], [`write_with_body`]) take two: the body is read only after the token
//! is accepted and the org admitted, so that nobody without a token can make the server buffer 2 MiB.

use crate::activity::TokenVerified;
use crate::org_limiter::{Admission, CheckPass};
use crate::scim_api::error::ScimApiError;
use crate::scim_api::limits;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::web;
use actix_web::{HttpMessage, HttpRequest};
use scimd_scim::ScimError;
use scimd_store::provisioning::{ScimStoreError, WriteCtx};
use scimd_store::{DbConnection, OrgId};
use scimd_tokens::{FollowUp, VerifiedToken};

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

/// The org of the URL and the `Authorization` header, taken out of the request for the blocking pool, with
/// the request's mark that the token was verified (for the activity recorder).
struct Credentials {
    url_org: OrgId,
    authorization: Option<String>,
    verified: TokenVerified,
}

fn credentials(req: &HttpRequest) -> Credentials {
    let verified = TokenVerified::default();
    req.extensions_mut().insert(verified.clone());
    Credentials {
        url_org: OrgId::new(req.match_info().get("org").unwrap_or_default()),
        authorization: req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        verified,
    }
}

/// For the answers given without a token check (an unknown path's 404, a wrong method's 405): checks the
/// token anyway when one is given, only to mark the request for the activity recorder, so that an IdP's own
/// misdirected requests stay on its org's activity page while nobody else's are stored there. The answer
/// does not depend on it; a refused or busy check marks nothing.
pub async fn note_verified_token(state: &AppState, req: &HttpRequest) {
    let c = credentials(req);
    if c.authorization.is_none() {
        return;
    }
    let Ok(pass) = check_pass(state, &c).await else {
        return;
    };
    let state = state.clone();
    let checked = scimd_store::blocking(move || {
        let v = state
            .tokens
            .verify_blocking(&c.url_org, c.authorization.as_deref());
        drop(pass);
        if v.is_ok() {
            c.verified.set();
        }
        Ok::<_, ScimApiError>(())
    })
    .await;
    if let Err(err) = checked {
        tracing::debug!(error = %err, "checking the token of an unrouted SCIM request failed");
    }
}

/// Waits (briefly) for one of the credential-check slots of the URL's org (`OrgLimiter::check_pass`), off the
/// blocking pool: a flood at one org's URL, with a valid token or none, then queues here instead of taking
/// the database connections every org's token checks need.
async fn check_pass(state: &AppState, c: &Credentials) -> Result<CheckPass, ScimApiError> {
    Ok(state.limits.check_pass(&c.url_org).await?)
}

/// Verifies the token and admits the request under the org's limits; on the blocking pool. The check's pass
/// is given back once the request is admitted (or refused).
fn admit_blocking(
    state: &AppState,
    c: &Credentials,
    pass: CheckPass,
) -> Result<(Caller, Admission), ScimApiError> {
    let v = state
        .tokens
        .verify_blocking(&c.url_org, c.authorization.as_deref());
    drop(pass);
    admitted(state, c, v?)
}

/// Admits a verified caller under its org's limits.
fn admitted(
    state: &AppState,
    c: &Credentials,
    v: VerifiedToken,
) -> Result<(Caller, Admission), ScimApiError> {
    c.verified.set();
    let admission = state.limits.admit(&v.org_id)?;
    Ok((
        Caller {
            org: v.org_id,
            hint: v.hint,
        },
        admission,
    ))
}

/// Verifies the caller and admits the request (discovery documents, `/Me`, and the first trip of a request
/// with a body).
pub async fn admit(state: &AppState, req: &HttpRequest) -> Result<(Caller, Admission), ScimApiError> {
    let c = credentials(req);
    let pass = check_pass(state, &c).await?;
    let state = state.clone();
    scimd_store::blocking(move || admit_blocking(&state, &c, pass)).await
}

/// Verifies the caller only (discovery documents, `/Me`); they count against the org's rate like any
/// request.
pub async fn verify(state: &AppState, req: &HttpRequest) -> Result<Caller, ScimApiError> {
    Ok(admit(state, req).await?.0)
}

/// Verifies the caller, then runs `f` as one read transaction of the caller's org.
pub async fn read<T, F>(state: &AppState, req: &HttpRequest, f: F) -> Result<(Caller, T), ScimApiError>
where
    T: Send + 'static,
    F: FnOnce(&Caller, &mut DbConnection) -> Result<T, ScimStoreError> + Send + 'static,
{
    let c = credentials(req);
    let pass = check_pass(state, &c).await?;
    let hash = state
        .tokens
        .check_header(&c.url_org, c.authorization.as_deref())?;
    let state = state.clone();
    scimd_store::blocking(move || {
        // The token's row is the unit's first read, on its connection and in its snapshot: one pool
        // check-out per request (see `TokenService::verify_on`).
        let mut owed = FollowUp::default();
        let read = state.store.read_consistent(|conn| {
            let (verified, follow_up) = state.tokens.verify_on(conn, &c.url_org, &hash);
            owed = follow_up;
            drop(pass);
            let (caller, _admission) = admitted(&state, &c, verified?)?;
            let t = f(&caller, conn)?;
            Ok::<_, ScimApiError>((caller, t))
        });
        state.tokens.follow_up(owed);
        read
    })
    .await
}

/// Verifies the caller and admits the request, then reads the body (see [`limits::body`]), then runs `f`
/// with it as one read transaction of the caller's org (`.search`).
pub async fn read_body<T, F>(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    f: F,
) -> Result<(Caller, T), ScimApiError>
where
    T: Send + 'static,
    F: FnOnce(&Caller, &mut DbConnection, web::Bytes) -> Result<T, ScimStoreError> + Send + 'static,
{
    let (caller, admission) = admit(state, req).await?;
    let body = limits::body(req, payload).await?;
    let store = state.store.clone();
    scimd_store::blocking(move || {
        let _admission = admission;
        let t = store.read_consistent(|conn| f(&caller, conn, body))?;
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

/// [`write()`] with a `prepare` step (parsing and validating the body) that runs after the token check and
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
    let pass = check_pass(state, &c).await?;
    let state = state.clone();
    scimd_store::blocking(move || {
        let (caller, admission) = admit_blocking(&state, &c, pass)?;
        let prepared = prepare()?;
        run_write(&state, caller, admission, prepared, f)
    })
    .await
}

/// [`write_with`] for a request with a body: the token is verified and the request admitted, then the body
/// is read (see [`limits::body`]), then `prepare` parses it and `f` writes.
pub async fn write_with_body<P: Send + 'static, T, Prep, F>(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    prepare: Prep,
    f: F,
) -> Result<(Caller, T), ScimApiError>
where
    T: Send + 'static,
    Prep: FnOnce(web::Bytes) -> Result<P, ScimError> + Send + 'static,
    F: FnOnce(&WriteCtx, &mut DbConnection, P) -> Result<T, ScimStoreError> + Send + 'static,
{
    let (caller, admission) = admit(state, req).await?;
    let body = limits::body(req, payload).await?;
    let state = state.clone();
    scimd_store::blocking(move || {
        let prepared = prepare(body)?;
        run_write(&state, caller, admission, prepared, f)
    })
    .await
}

/// The write of an admitted request; its in-flight slot is given back when the write is done.
fn run_write<P: Send + 'static, T, F>(
    state: &AppState,
    caller: Caller,
    admission: Admission,
    prepared: P,
    f: F,
) -> Result<(Caller, T), ScimApiError>
where
    T: Send + 'static,
    F: FnOnce(&WriteCtx, &mut DbConnection, P) -> Result<T, ScimStoreError> + Send + 'static,
{
    let _admission = admission;
    let ctx = WriteCtx {
        org: caller.org.clone(),
        actor: caller.actor(),
        now: state.clock.now_naive(),
    };
    let t = state.store.write_owned(move |conn| f(&ctx, conn, prepared))?;
    Ok((caller, t))
}
