//! `SsfService`: the transmitter's operations, blocking (async callers run them through
//! `scimd_store::blocking`): the configuration document, the streams a key owns (SSF §8.1.1), their status
//! (§8.1.2), subjects (§8.1.3) and verification (§8.1.4), and the making of SETs from the feed.
//!
//! SETs are made from the feed after a stream's cursor in two steps: a read (the stream, a page of the feed,
//! the signing key) and signing outside any transaction, then one write that moves the cursor only from where
//! the read found it and queues the SETs in `ssf_pending`. Two makers of one stream (a poll and a push worker,
//! or two processes) cannot both keep theirs: the second write finds the cursor moved and rolls back.

use crate::error::SsfError;
use crate::events::{self, Planned};
use crate::model::{self, NewDelivery, NewPending, Stream};
use crate::set::{self, Claims, Signer, Subject};
use chrono::NaiveDateTime;
use scimd_store::models::events as feed;
use scimd_store::models::{admin_sessions, members};
use scimd_store::{Clock, DbConnection, MemberId, OrgId, SessionId, Store};
use scimd_tokens::cipher::SecretCipher;
use scimd_tokens::{ApiKeyAuth, ApiKeyService, SecretKey};
use scimd_webhooks::AddressPolicy;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// The most streams one API key owns (SSF §8.1.1.1 lets a transmitter refuse more, with 409).
pub const MAX_STREAMS_PER_KEY: usize = 10;
/// The most feed events one making of SETs reads.
pub const BATCH: i64 = 100;
/// The most SETs waiting in one stream: past it the stream's cursor stays where it is (the feed keeps the
/// events) until the receiver acknowledges or accepts some.
pub const MAX_PENDING: i64 = 1_000;
/// The most SETs one poll answers with.
pub const MAX_POLL: i64 = 100;
const MAX_EVENTS_REQUESTED: usize = 64;
const MAX_FIELD_LEN: usize = 1_024;
const MAX_AUTHORIZATION_LEN: usize = 4_096;
const MAX_AUDIENCES: usize = 8;

/// Which keys seal the push receivers' `authorization_header` (the cipher's associated data binds a sealed
/// value to its stream).
fn seal_purpose(stream_id: &str) -> String {
    format!("ssf_authorization_header:{stream_id}")
}

fn seal_org(org: Option<&str>) -> OrgId {
    OrgId::new(org.unwrap_or("*"))
}

/// The org and purpose a stored authorization header was sealed with (`scimd keys rotate` re-seals it).
pub fn seal_context(value: &scimd_store::models::sealed::SealedValue) -> (OrgId, String) {
    (seal_org(value.org_id.as_deref()), seal_purpose(&value.key))
}

/// A stream's delivery as the receiver sends it (SSF §8.1.1).
#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryInput {
    pub method: String,
    #[serde(default)]
    pub endpoint_url: Option<String>,
    #[serde(default)]
    pub authorization_header: Option<String>,
}

/// The receiver-supplied fields of a stream (create, PATCH, PUT); transmitter-supplied fields that a
/// receiver echoes back are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamInput {
    #[serde(default)]
    pub stream_id: Option<String>,
    #[serde(default)]
    pub delivery: Option<DeliveryInput>,
    #[serde(default)]
    pub events_requested: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    /// An audience the receiver wants in `aud` (a string or up to 8); by default the API key's id.
    #[serde(default)]
    pub aud: Option<Value>,
}

/// A poll (RFC 8936 §2.4).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PollRequest {
    #[serde(default, rename = "maxEvents")]
    pub max_events: Option<i64>,
    #[serde(default, rename = "returnImmediately")]
    pub return_immediately: Option<bool>,
    #[serde(default)]
    pub ack: Vec<String>,
    #[serde(default, rename = "setErrs")]
    pub set_errs: serde_json::Map<String, Value>,
}

/// Admits one request of an API key (by its id) under the platform API's per-key limits: a guard held while
/// the request is served, or `SsfError::Limited`. The server supplies it (`OrgLimiter`); without one, every
/// request is admitted.
pub type Admit = Arc<dyn Fn(&str) -> Result<Box<dyn std::any::Any + Send>, SsfError> + Send + Sync>;

#[derive(Clone)]
pub struct SsfService {
    admit: Option<Admit>,
    store: Store,
    clock: Arc<dyn Clock>,
    issuer: String,
    secret_key: Option<SecretKey>,
    policy: AddressPolicy,
    api_keys: ApiKeyService,
    provider: scimd_signin::oauth::OAuthProvider,
}

impl std::fmt::Debug for SsfService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsfService")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn bad(why: impl Into<String>) -> SsfError {
    SsfError::BadRequest(why.into())
}

impl SsfService {
    /// `public_url` is the issuer; `secret_key` is `Keys::sso_secret` (`SCIMD_SECRET_KEY`), which seals the
    /// signing key and the receivers' authorization headers.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        public_url: &str,
        secret_key: Option<SecretKey>,
        policy: AddressPolicy,
    ) -> SsfService {
        let issuer = public_url.trim_end_matches('/').to_owned();
        SsfService {
            admit: None,
            api_keys: ApiKeyService::new(store.clone(), clock.clone()),
            provider: scimd_signin::oauth::OAuthProvider::new(
                store.clone(),
                clock.clone(),
                &issuer,
                secret_key.clone(),
            ),
            store,
            clock,
            issuer,
            secret_key,
            policy,
        }
    }

    /// The same service, admitting each request of a key through `admit` (the platform API's limits).
    pub fn with_admission(mut self, admit: Admit) -> SsfService {
        self.admit = Some(admit);
        self
    }

    /// Admits a request of `key` (see [`Admit`]).
    pub fn admit(&self, key: &ApiKeyAuth) -> Result<Option<Box<dyn std::any::Any + Send>>, SsfError> {
        self.admit.as_ref().map(|admit| admit(&key.id)).transpose()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now_naive()
    }

    /// The key of an `Authorization: Bearer scimd_ak_...` header.
    pub fn authenticate_blocking(&self, authorization: Option<&str>) -> Result<ApiKeyAuth, SsfError> {
        self.api_keys.verify_blocking(authorization).map_err(|e| match e {
            scimd_tokens::TokenError::Unauthorized => SsfError::Unauthorized,
            other => SsfError::Token(other),
        })
    }

    /// The transmitter's configuration (SSF §7.1), at `/.well-known/ssf-configuration`.
    pub fn configuration(&self) -> Value {
        let at = |path: &str| format!("{}{path}", self.issuer);
        json!({
            "spec_version": "1_0",
            "issuer": self.issuer,
            "jwks_uri": at("/oauth/jwks"),
            "delivery_methods_supported": [model::PUSH, model::POLL],
            "configuration_endpoint": at("/ssf/streams"),
            "status_endpoint": at("/ssf/status"),
            "add_subject_endpoint": at("/ssf/subjects/add"),
            "remove_subject_endpoint": at("/ssf/subjects/remove"),
            "verification_endpoint": at("/ssf/verify"),
            // Receivers authenticate with the platform's API keys as bearer tokens, not with OAuth 2.0
            // access tokens: what is true is said here, with the SSF's own scheme name for a bearer key.
            "authorization_schemes": [{ "spec_urn": "urn:ietf:rfc:6750" }],
            "default_subjects": "ALL",
        })
    }

    /// The poll endpoint of a stream (the `endpoint_url` the transmitter fills in, SSF §8.1.1).
    pub fn poll_url(&self, stream_id: &str) -> String {
        format!("{}/ssf/poll/{stream_id}", self.issuer)
    }

    /// A stream as the receiver reads it (never its authorization header).
    pub fn render(&self, stream: &Stream) -> Value {
        let endpoint = match stream.delivery_method.as_str() {
            model::POLL => Some(self.poll_url(&stream.id)),
            _ => stream.endpoint_url.clone(),
        };
        let mut out = json!({
            "stream_id": stream.id,
            "iss": self.issuer,
            "aud": serde_json::from_str::<Value>(&stream.audience).unwrap_or(Value::Null),
            "delivery": { "method": stream.delivery_method, "endpoint_url": endpoint },
            "events_supported": events::SUPPORTED,
            "events_requested": stream.requested(),
            "events_delivered": stream.delivered(),
        });
        if let Some(d) = &stream.description {
            out["description"] = json!(d);
        }
        out
    }

    pub fn render_status(stream: &Stream) -> Value {
        let mut out = json!({ "stream_id": stream.id, "status": stream.status });
        if let Some(r) = &stream.reason {
            out["reason"] = json!(r);
        }
        out
    }

    fn audience(aud: Option<&Value>, key: &ApiKeyAuth) -> Result<String, SsfError> {
        let ok = |s: &str| !s.is_empty() && s.len() <= MAX_FIELD_LEN;
        let value = match aud {
            None | Some(Value::Null) => json!(key.id),
            Some(Value::String(s)) if ok(s) => json!(s),
            Some(Value::Array(a))
                if !a.is_empty()
                    && a.len() <= MAX_AUDIENCES
                    && a.iter().all(|v| v.as_str().is_some_and(ok)) =>
            {
                json!(a)
            }
            Some(_) => return Err(bad("aud is a string or an array of up to 8 strings")),
        };
        Ok(value.to_string())
    }

    fn requested(list: Option<&Vec<String>>) -> Result<String, SsfError> {
        let list = list.cloned().unwrap_or_default();
        if list.len() > MAX_EVENTS_REQUESTED || list.iter().any(|e| e.len() > MAX_FIELD_LEN) {
            return Err(bad("events_requested is too long"));
        }
        Ok(serde_json::to_string(&list)?)
    }

    fn description(d: Option<&String>) -> Result<Option<String>, SsfError> {
        match d {
            Some(d) if d.len() > MAX_FIELD_LEN => Err(bad("description is longer than 1024 bytes")),
            other => Ok(other.cloned()),
        }
    }

    /// Applies a delivery to `stream`: its method, and for push the checked URL and the sealed header.
    fn apply_delivery(
        &self,
        conn: &mut DbConnection,
        stream: &mut Stream,
        delivery: Option<&DeliveryInput>,
    ) -> Result<(), SsfError> {
        let Some(delivery) = delivery else {
            // No delivery: poll (SSF §8.1.1.1).
            stream.delivery_method = model::POLL.to_owned();
            stream.endpoint_url = None;
            stream.authorization_sealed = None;
            return Ok(());
        };
        match delivery.method.as_str() {
            model::POLL => {
                stream.delivery_method = model::POLL.to_owned();
                stream.endpoint_url = None;
                stream.authorization_sealed = None;
            }
            model::PUSH => {
                let url = delivery
                    .endpoint_url
                    .as_deref()
                    .ok_or_else(|| bad("a push delivery needs endpoint_url"))?;
                let url = self.policy.check_url(url)?;
                stream.delivery_method = model::PUSH.to_owned();
                stream.endpoint_url = Some(url.to_string());
                stream.authorization_sealed = match &delivery.authorization_header {
                    None => None,
                    // An HTTP header value: visible ASCII and spaces, or every push would fail to send.
                    Some(h)
                        if h.len() > MAX_AUTHORIZATION_LEN
                            || !h.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
                    {
                        return Err(bad(
                            "authorization_header is longer than 4096 bytes or holds characters a header cannot",
                        ));
                    }
                    Some(h) => {
                        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, self.now())?;
                        Some(cipher.encrypt(
                            &seal_org(stream.org_id.as_deref()),
                            &seal_purpose(&stream.id),
                            h.as_bytes(),
                        )?)
                    }
                };
            }
            other => return Err(bad(format!("unsupported delivery method {other:?}"))),
        }
        Ok(())
    }

    /// The push receiver's `authorization_header`, unsealed.
    pub fn authorization(
        &self,
        conn: &mut DbConnection,
        stream: &Stream,
    ) -> Result<Option<String>, SsfError> {
        let Some(sealed) = &stream.authorization_sealed else {
            return Ok(None);
        };
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, self.now())?;
        let plain = cipher.decrypt(
            &seal_org(stream.org_id.as_deref()),
            &seal_purpose(&stream.id),
            sealed,
        )?;
        String::from_utf8(plain.to_vec())
            .map(Some)
            .map_err(|_| SsfError::Key("a sealed authorization header is not text".into()))
    }

    /// Creates a stream owned by `key`, carrying its org's events from now on (SSF §8.1.1.1).
    pub fn create_blocking(&self, key: &ApiKeyAuth, input: &StreamInput) -> Result<Stream, SsfError> {
        let now = self.now();
        let mut stream = Stream {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: key.org.as_ref().map(|o| o.as_str().to_owned()),
            api_key_id: key.id.clone(),
            audience: Self::audience(input.aud.as_ref(), key)?,
            delivery_method: model::POLL.to_owned(),
            endpoint_url: None,
            authorization_sealed: None,
            events_requested: Self::requested(input.events_requested.as_ref())?,
            description: Self::description(input.description.as_ref())?,
            status: model::ENABLED.to_owned(),
            reason: None,
            created_at: now,
            updated_at: now,
            cursor: 0,
            attempts: 0,
            next_attempt_at: now,
            failing_since: None,
            leased_until: None,
            lease_owner: None,
        };
        // Every event committed before the stream is positioned first, so that none of them is sent.
        feed::catch_up(&self.store)?;
        self.store.write(|conn| {
            if usize::try_from(model::count_owned(conn, &key.id)?).unwrap_or(usize::MAX)
                >= MAX_STREAMS_PER_KEY
            {
                return Err(SsfError::TooManyStreams {
                    max: MAX_STREAMS_PER_KEY,
                });
            }
            self.apply_delivery(conn, &mut stream, input.delivery.as_ref())?;
            stream.cursor = feed::latest(conn)?;
            model::insert(conn, &stream)?;
            Ok(stream)
        })
    }

    pub fn get_blocking(&self, key: &ApiKeyAuth, id: &str) -> Result<Stream, SsfError> {
        self.store
            .read(|conn| model::owned(conn, &key.id, id))?
            .ok_or(SsfError::NotFound)
    }

    pub fn list_blocking(&self, key: &ApiKeyAuth) -> Result<Vec<Stream>, SsfError> {
        Ok(self.store.read(|conn| model::list_owned(conn, &key.id))?)
    }

    /// PATCH (SSF §8.1.1.3: the fields given change) or PUT (§8.1.1.4: the receiver-supplied fields are
    /// replaced, and those missing are removed).
    pub fn update_blocking(
        &self,
        key: &ApiKeyAuth,
        input: &StreamInput,
        replace: bool,
    ) -> Result<Stream, SsfError> {
        let id = input
            .stream_id
            .as_deref()
            .ok_or_else(|| bad("stream_id is required"))?;
        let now = self.now();
        self.store.write(|conn| {
            let mut stream = model::owned(conn, &key.id, id)?.ok_or(SsfError::NotFound)?;
            if replace || input.events_requested.is_some() {
                stream.events_requested = Self::requested(input.events_requested.as_ref())?;
            }
            if replace || input.description.is_some() {
                stream.description = Self::description(input.description.as_ref())?;
            }
            if replace || input.aud.is_some() {
                stream.audience = Self::audience(input.aud.as_ref(), key)?;
            }
            if replace || input.delivery.is_some() {
                self.apply_delivery(conn, &mut stream, input.delivery.as_ref())?;
                stream.attempts = 0;
                stream.failing_since = None;
                stream.next_attempt_at = now;
            }
            stream.updated_at = now;
            if !model::update(conn, &stream)? {
                return Err(SsfError::NotFound);
            }
            Ok(stream)
        })
    }

    pub fn delete_blocking(&self, key: &ApiKeyAuth, id: &str) -> Result<(), SsfError> {
        self.store.write(|conn| {
            if model::delete(conn, &key.id, id)? {
                Ok(())
            } else {
                Err(SsfError::NotFound)
            }
        })
    }

    /// Sets the status (SSF §8.1.2.2): `paused` holds the stream's events, `disabled` drops them (the SETs
    /// waiting too), and a stream enabled again after `disabled` starts from the events that commit from then.
    pub fn set_status_blocking(
        &self,
        key: &ApiKeyAuth,
        id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<Stream, SsfError> {
        if ![model::ENABLED, model::PAUSED, model::DISABLED].contains(&status) {
            return Err(bad("status is enabled, paused or disabled"));
        }
        if reason.is_some_and(|r| r.len() > MAX_FIELD_LEN) {
            return Err(bad("reason is longer than 1024 bytes"));
        }
        let now = self.now();
        feed::catch_up(&self.store)?;
        self.store.write(|conn| {
            let mut stream = model::owned(conn, &key.id, id)?.ok_or(SsfError::NotFound)?;
            let was = stream.status.clone();
            if status == model::DISABLED {
                model::clear_pending(conn, id)?;
            }
            if was == model::DISABLED && status != model::DISABLED {
                stream.cursor = feed::latest(conn)?;
            }
            if status == model::ENABLED {
                stream.attempts = 0;
                stream.failing_since = None;
                stream.next_attempt_at = now;
            }
            stream.status = status.to_owned();
            stream.reason = reason.map(str::to_owned);
            stream.updated_at = now;
            model::update(conn, &stream)?;
            Ok(stream)
        })
    }

    /// The member a subject names among those the stream can carry (SSF §3, §8.1.3): `iss_sub` (this
    /// issuer), `opaque` or `scim` (`/Users/{id}`) by member id, `email` by userName; in a `complex`
    /// subject, its `user`, with `tenant` naming the org when the key is bound to none.
    fn resolve(&self, conn: &mut DbConnection, stream: &Stream, subject: &Value) -> Result<String, SsfError> {
        let (user, tenant) = if subject["format"] == "complex" {
            (&subject["user"], subject["tenant"]["id"].as_str())
        } else {
            (subject, None)
        };
        let org = match (stream.org_id.as_deref(), tenant) {
            (Some(own), Some(t)) if own != t => return Err(SsfError::UnknownSubject),
            (Some(own), _) => OrgId::new(own),
            (None, Some(t)) => OrgId::new(t),
            (None, None) => {
                return Err(bad(
                    "this stream carries every org: name the member's org as a complex subject's tenant",
                ));
            }
        };
        let text = |k: &str| {
            user[k]
                .as_str()
                .filter(|s| !s.is_empty() && s.len() <= MAX_FIELD_LEN)
        };
        let by_id = |conn: &mut DbConnection, id: &str| {
            members::find(conn, &org, &MemberId::new(id)).map(|m| m.map(|m| m.id))
        };
        let found = match user["format"].as_str() {
            Some("iss_sub") if text("iss") == Some(self.issuer.as_str()) => match text("sub") {
                Some(sub) => by_id(conn, sub)?,
                None => None,
            },
            Some("opaque") => match text("id") {
                Some(id) => by_id(conn, id)?,
                None => None,
            },
            Some("scim") => match text("uri").and_then(|u| u.strip_prefix("/Users/")) {
                Some(id) => by_id(conn, id)?,
                None => None,
            },
            Some("email") => match text("email") {
                Some(email) => members::find_by_user_name(conn, &org, email)?.map(|m| m.id),
                None => None,
            },
            _ => {
                return Err(bad(
                    "a subject is iss_sub, email, opaque, scim, or complex with a user",
                ));
            }
        };
        found.ok_or(SsfError::UnknownSubject)
    }

    /// Adds (`included`) or removes a subject (SSF §8.1.3.2-3).
    pub fn subject_blocking(
        &self,
        key: &ApiKeyAuth,
        id: &str,
        subject: &Value,
        included: bool,
    ) -> Result<(), SsfError> {
        let now = self.now();
        self.store.write(|conn| {
            let stream = model::owned(conn, &key.id, id)?.ok_or(SsfError::NotFound)?;
            let member = self.resolve(conn, &stream, subject)?;
            model::set_subject(conn, id, &member, included, now)?;
            Ok(())
        })
    }

    /// A SET about `stream` itself (verification, stream-updated: its subject is the stream); its jti and token.
    fn sign_stream_event(
        &self,
        stream: &Stream,
        event_type: &str,
        payload: Value,
        now: NaiveDateTime,
    ) -> Result<(String, String), SsfError> {
        self.provider.jwks_blocking()?;
        let signer = self
            .store
            .read(|conn| Signer::load(conn, self.secret_key.as_ref(), now))?;
        let jti = set::jti();
        let audience = serde_json::from_str::<Value>(&stream.audience)?;
        let token = signer.sign(
            &Claims {
                issuer: &self.issuer,
                audience: &audience,
                iat: now.and_utc().timestamp(),
                jti: &jti,
                txn: None,
                sub_id: set::sub_id(
                    &self.issuer,
                    &Subject::Stream(&stream.id),
                    events::SubjectKind::Account,
                ),
                event_type,
                payload,
            }
            .to_json(),
        )?;
        Ok((jti, token))
    }

    /// Records a leased push round (`model::finish`, one transaction). A round that disables the stream (every
    /// push failed for days) queues, in the same write, the `stream-updated` SET telling its receiver so
    /// (SSF §8.1.5): `status` disabled and the `reason` its status shows. Returns whether the lease was held.
    pub fn finish_round_blocking(
        &self,
        stream: &Stream,
        owner: &str,
        accepted: &[String],
        attempts: &[NewDelivery],
        outcome: &model::Outcome,
        now: NaiveDateTime,
    ) -> Result<bool, SsfError> {
        let disables = stream.status == model::ENABLED
            && matches!(outcome, model::Outcome::Failed { failing_since, .. }
                if model::gives_up(*failing_since, now));
        // Signed before the write, so the writer is not held for it; used only if the stream is disabled.
        let notice = if disables {
            let payload = json!({ "status": model::DISABLED, "reason": model::disabled_reason() });
            let (jti, token) = self.sign_stream_event(stream, events::STREAM_UPDATED, payload, now)?;
            Some(NewPending {
                stream_id: stream.id.clone(),
                jti,
                event_type: events::STREAM_UPDATED.to_owned(),
                token,
                created_at: now,
            })
        } else {
            None
        };
        self.store.write(|conn| {
            let was = model::get(conn, &stream.id)?.map(|s| s.status);
            let held = model::finish(conn, &stream.id, owner, accepted, attempts, outcome, now)?;
            let now_disabled = model::get(conn, &stream.id)?.is_some_and(|s| s.status == model::DISABLED);
            if let Some(notice) =
                notice.filter(|_| held && was.as_deref() == Some(model::ENABLED) && now_disabled)
            {
                model::queue_disabled_notice(conn, &notice, now)?;
            }
            Ok::<_, SsfError>(held)
        })
    }

    /// Queues a verification event echoing `state` (SSF §8.1.4.2).
    pub fn verify_blocking(&self, key: &ApiKeyAuth, id: &str, state: Option<&str>) -> Result<(), SsfError> {
        if state.is_some_and(|s| s.len() > MAX_FIELD_LEN) {
            return Err(bad("state is longer than 1024 bytes"));
        }
        let stream = self.get_blocking(key, id)?;
        let payload = match state {
            Some(s) => json!({ "state": s }),
            None => json!({}),
        };
        let now = self.now();
        let (jti, token) = self.sign_stream_event(&stream, events::VERIFICATION, payload, now)?;
        self.store.write(|conn| {
            if model::owned(conn, &key.id, id)?.is_none() {
                return Err(SsfError::NotFound);
            }
            model::push_pending(
                conn,
                &[NewPending {
                    stream_id: id.to_owned(),
                    jti,
                    event_type: events::VERIFICATION.to_owned(),
                    token,
                    created_at: now,
                }],
            )?;
            model::due_now(conn, id, now)?;
            Ok(())
        })
    }

    /// Turns the stream's next page of feed events into queued SETs; returns how many were queued (none for
    /// a stream that is not enabled, or whose queue is full).
    pub fn make_sets_blocking(&self, id: &str) -> Result<usize, SsfError> {
        feed::catch_up(&self.store)?;
        let now = self.now();
        let Some((stream, page, latest)) = self.store.read(|conn| {
            let Some(stream) = model::get(conn, id)? else {
                return Err(SsfError::NotFound);
            };
            if stream.status != model::ENABLED || model::pending_count(conn, id)? >= MAX_PENDING {
                return Ok(None);
            }
            let latest = feed::latest(conn)?;
            if stream.cursor >= latest {
                return Ok(None);
            }
            let types = events::feed_types(&stream.delivered());
            let page = if types.is_empty() {
                Vec::new()
            } else {
                feed::after(conn, stream.cursor, BATCH, stream.org().as_ref(), &types)?
            };
            let mut planned = Vec::new();
            for event in page {
                let Some(position) = event.position else { break };
                let plans = self.plan_event(conn, &stream, &event)?;
                planned.push((position, event, plans));
            }
            Ok::<_, SsfError>(Some((stream, planned, latest)))
        })?
        else {
            return Ok(0);
        };
        let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= BATCH;
        let mut cursor = stream.cursor;
        let mut rows = Vec::new();
        let audience = serde_json::from_str::<Value>(&stream.audience)?;
        let mut signer = None;
        for (position, event, plans) in &page {
            cursor = *position;
            for (member, external_id, plan) in plans {
                if signer.is_none() {
                    self.provider.jwks_blocking()?;
                    signer = Some(
                        self.store
                            .read(|conn| Signer::load(conn, self.secret_key.as_ref(), now))?,
                    );
                }
                let Some(signer) = &signer else { continue };
                let jti = set::jti();
                let subject = Subject::Member {
                    org: &event.org_id,
                    member,
                    external_id: external_id.as_deref(),
                };
                let token = signer.sign(
                    &Claims {
                        issuer: &self.issuer,
                        audience: &audience,
                        iat: now.and_utc().timestamp(),
                        jti: &jti,
                        txn: Some(&event.id),
                        sub_id: set::sub_id(&self.issuer, &subject, plan.subject),
                        event_type: plan.event_type,
                        payload: plan.payload.clone(),
                    }
                    .to_json(),
                )?;
                rows.push(NewPending {
                    stream_id: stream.id.clone(),
                    jti,
                    event_type: plan.event_type.to_owned(),
                    token,
                    created_at: now,
                });
            }
        }
        if !full {
            // A short page holds every event up to `latest` this stream reads.
            cursor = cursor.max(latest);
        }
        let queued = rows.len();
        self.store.write(|conn| {
            if !model::advance(conn, &stream.id, stream.cursor, cursor)? {
                return Err(SsfError::Conflict);
            }
            model::push_pending(conn, &rows)?;
            Ok(())
        })?;
        Ok(queued)
    }

    /// The SETs one feed event makes for `stream`, with the member each is about (none for a member the
    /// receiver removed from the stream).
    fn plan_event(
        &self,
        conn: &mut DbConnection,
        stream: &Stream,
        event: &feed::Event,
    ) -> Result<Vec<(String, Option<String>, Planned)>, SsfError> {
        let data = feed::data(event)?;
        let member = if event.event_type == feed::types::SESSION_REVOKED {
            match (data["member_id"].as_str(), data["session_id"].as_str()) {
                (Some(m), _) => Some(m.to_owned()),
                // A logout's event names the session; its row names the member.
                (None, Some(s)) => admin_sessions::find(conn, &SessionId::new(s))?
                    .filter(|row| row.org_id == event.org_id)
                    .map(|row| row.member_id),
                (None, None) => None,
            }
        } else {
            data["id"].as_str().map(str::to_owned)
        };
        let Some(member) = member else {
            return Ok(Vec::new());
        };
        // A stream's subjects are members: a group's events are in every stream of its org.
        let of_group = event.event_type.starts_with("group.");
        if !of_group && model::excluded(conn, &stream.id, &member)? {
            return Ok(Vec::new());
        }
        let resource = if of_group { &data["group"] } else { &data["user"] };
        let external_id = resource["external_id"].as_str().map(str::to_owned);
        let at = event.occurred_at.and_utc().timestamp();
        Ok(events::plan(&event.event_type, &data, at, &stream.delivered())
            .into_iter()
            .map(|p| (member.clone(), external_id.clone(), p))
            .collect())
    }

    /// A poll's acknowledgements and errors (RFC 8936 §2.4): the SETs named leave the stream's queue, and
    /// each is recorded in its delivery log.
    pub fn acknowledge_blocking(
        &self,
        key: &ApiKeyAuth,
        id: &str,
        request: &PollRequest,
    ) -> Result<Stream, SsfError> {
        if request.ack.len() + request.set_errs.len() > MAX_PENDING as usize {
            return Err(bad("too many acknowledgements in one poll"));
        }
        let now = self.now();
        let polled = |stream: Option<Stream>| {
            let stream = stream.ok_or(SsfError::NotFound)?;
            if stream.delivery_method == model::POLL {
                Ok(stream)
            } else {
                Err(bad("this stream is delivered by push, not polled"))
            }
        };
        if request.ack.is_empty() && request.set_errs.is_empty() {
            // Nothing to write: a read, so that a long poll costs no write transaction.
            return polled(self.store.read(|conn| model::owned(conn, &key.id, id))?);
        }
        self.store.write(|conn| {
            let stream = polled(model::owned(conn, &key.id, id)?)?;
            let acked = model::remove_pending(conn, id, &request.ack)?;
            let errs: Vec<String> = request.set_errs.keys().cloned().collect();
            let failed = model::remove_pending(conn, id, &errs)?;
            let log = |(jti, event_type): (String, String), error: Option<String>| NewDelivery {
                stream_id: id.to_owned(),
                org_id: stream.org_id.clone(),
                error: error.clone(),
                delivered: error.is_none(),
                jti,
                event_type,
                attempt: 1,
                status_code: None,
                latency_ms: 0,
                attempted_at: now,
            };
            let mut rows: Vec<NewDelivery> = acked.into_iter().map(|a| log(a, None)).collect();
            for (jti, event_type) in failed {
                let err = &request.set_errs[&jti];
                let text = format!(
                    "{}: {}",
                    err["err"].as_str().unwrap_or("error"),
                    err["description"].as_str().unwrap_or("")
                );
                rows.push(log((jti, event_type), Some(text.chars().take(200).collect())));
            }
            model::record(conn, &rows)?;
            Ok(stream)
        })
    }

    /// Up to `max` SETs waiting in an enabled stream (making them from the feed first), and whether more wait.
    pub fn waiting_blocking(&self, id: &str, max: i64) -> Result<(Vec<model::Pending>, bool), SsfError> {
        match self.make_sets_blocking(id) {
            Ok(_) | Err(SsfError::Conflict) => {}
            Err(e) => return Err(e),
        }
        self.store.read(|conn| {
            let Some(stream) = model::get(conn, id)? else {
                return Err(SsfError::NotFound);
            };
            if stream.status != model::ENABLED || max == 0 {
                return Ok((Vec::new(), false));
            }
            let mut sets = model::pending(conn, id, max + 1)?;
            let more =
                i64::try_from(sets.len()).unwrap_or(i64::MAX) > max || stream.cursor < feed::latest(conn)?;
            sets.truncate(usize::try_from(max).unwrap_or(0));
            Ok((sets, more))
        })
    }

    /// The newest deliveries of the streams of `org` (the admin page), with the streams.
    pub fn org_streams_blocking(
        &self,
        org: &OrgId,
        deliveries: i64,
    ) -> Result<Vec<(Stream, Vec<model::Delivery>)>, SsfError> {
        self.store.read(|conn| {
            let streams = model::list_for_org(conn, org.as_str(), MAX_STREAMS_PER_KEY as i64 * 10)?;
            let mut out = Vec::new();
            for s in streams {
                let d = model::deliveries(conn, &s.id, deliveries.clamp(1, 100))?;
                out.push((s, d));
            }
            Ok(out)
        })
    }
}
