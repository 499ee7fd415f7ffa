//! [`SignInService`]: SP-initiated SAML sign-in for one org's connection, end to end.
//!
//! 1. `start_blocking`: a pending request (RelayState digest, binding-cookie digest, AuthnRequest ID, return
//!    path; single use, 10 minutes) and the IdP redirect URL with the deflated `SAMLRequest`.
//! 2. `saml_acs_blocking`: the pending request is consumed first (a second post of the same RelayState finds
//!    nothing), the response verified against it (`scimd_sso::saml::verify_response`, outside any
//!    transaction), then one transaction records the assertion ID (replay), maps the identity to a member of
//!    this org (`identity`: stable keys, SCIM-managed members only), and records a hand-off or audits the
//!    refusal. The IdP's POST is cross-site, so it carries no SameSite=Lax session cookie (review 3, L-6):
//!    the session is not opened here but handed off to
//! 3. `complete_blocking`: `GET /sso/{org}/complete?handoff=`, where the ACS sends the browser on. That request
//!    carries the session cookie; it consumes the hand-off (single use, two minutes, the binding cookie the
//!    ACS set), opens the session and ends the browser's previous one, as a login link does.
//!
//! A refusal before anything was verified (no or an unknown RelayState/`state`, an unsolicited response where
//! none is allowed, a response whose signature does not verify) is anyone's doing: it is counted in
//! `scimd_signin_unverified_refusals_total{method,reason}` and logged at debug, never stored (review H-1).
//! A refusal after a verified message or a pending request the browser used up is audited, by `idp` or by
//! `anonymous` (the browser).

use crate::browser::{self, BROWSER_COOKIE_SECS};
use crate::connection::{ConnectionService, SignInSettings};
use crate::error::SignInError;
use crate::identity;
use crate::jwks::JwksCaches;
use chrono::TimeDelta;
use scimd_sso::saml::{self, Expectation, SpConfig};
use scimd_store::models::sso_signin::{self, PendingLoginRow};
use scimd_store::{Clock, OrgId, Store};
use scimd_tokens::audit::{ANONYMOUS_ACTOR, IDP_ACTOR};
use scimd_tokens::{Session, SessionService, SsoCompletion, SsoDecision, SsoHandOff, SsoRefusal};
use std::fmt;
use std::sync::Arc;

/// How long a started sign-in may take at the IdP.
const PENDING_LIFETIME: TimeDelta = TimeDelta::seconds(BROWSER_COOKIE_SECS);
/// How long the browser has to follow the ACS's redirect to the hand-off (it does at once).
pub const HANDOFF_SECS: i64 = 120;
pub(crate) const PROTOCOL_SAML: &str = "saml";
pub(crate) const PROTOCOL_OIDC: &str = "oidc";
/// Live (unused, unexpired) pending sign-ins an org may have at once unless the server says otherwise.
pub const DEFAULT_PENDING_PER_ORG: u32 = 1000;

/// The counter of refusals before any verified message, by method and reason, for the server's `/metrics`.
pub fn unverified_refusals_counter() -> prometheus::Result<prometheus::IntCounterVec> {
    prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "scimd_signin_unverified_refusals_total",
            "SSO sign-ins refused before any verified message (not stored in any org's audit trail)",
        ),
        &["method", "reason"],
    )
}

/// A started sign-in: send the browser to `redirect_url` (303) with the binding cookie set to
/// `browser_cookie` (a secret: HttpOnly, never logged).
pub struct Started {
    pub redirect_url: String,
    pub browser_cookie: String,
}

impl fmt::Debug for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Started").finish_non_exhaustive()
    }
}

/// A verified SAML sign-in waiting for the browser: send it to `url` (303) with the binding cookie set to
/// `browser_cookie` (a secret: HttpOnly, never logged; it lives [`HANDOFF_SECS`]).
pub struct HandedOff {
    pub url: String,
    pub browser_cookie: String,
}

impl fmt::Debug for HandedOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandedOff").finish_non_exhaustive()
    }
}

/// A finished sign-in: set the session cookie and go to `return_to`.
#[derive(Debug)]
pub struct Finished {
    pub session: Session,
    pub return_to: String,
}

#[derive(Clone)]
pub struct SignInService {
    store: Store,
    clock: Arc<dyn Clock>,
    sessions: SessionService,
    connection: ConnectionService,
    /// Where browsers reach this server, without a trailing slash: the SP entity ID and ACS derive from it.
    public_url: String,
    /// The Entra ID authority base (`SCIMD_ENTRA_AUTHORITY`; a fake one on loopback in tests).
    entra_authority: String,
    jwks: JwksCaches,
    /// Where refusals before any verified message are counted (`None`: only logged, as in the CLI).
    unverified: Option<prometheus::IntCounterVec>,
    /// The most live pending sign-ins of one org.
    pending_cap: u32,
}

impl fmt::Debug for SignInService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInService")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl SignInService {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        sessions: SessionService,
        connection: ConnectionService,
        public_url: &str,
    ) -> SignInService {
        SignInService {
            store,
            clock,
            sessions,
            connection,
            public_url: public_url.trim_end_matches('/').to_owned(),
            entra_authority: scimd_sso::oidc::DEFAULT_AUTHORITY.to_owned(),
            jwks: JwksCaches::default(),
            unverified: None,
            pending_cap: DEFAULT_PENDING_PER_ORG,
        }
    }

    /// The same service, counting refusals before any verified message in `counter` (see
    /// [`unverified_refusals_counter`]).
    pub fn with_unverified_counter(mut self, counter: prometheus::IntCounterVec) -> SignInService {
        self.unverified = Some(counter);
        self
    }

    /// The same service, with at most `cap` live pending sign-ins per org (at least 1).
    pub fn with_pending_cap(mut self, cap: u32) -> SignInService {
        self.pending_cap = cap.max(1);
        self
    }

    /// The same service with another Entra ID authority base (default `https://login.microsoftonline.com`;
    /// plain http only to loopback, which `EntraConfig` enforces).
    pub fn with_entra_authority(mut self, authority: &str) -> SignInService {
        authority
            .trim_end_matches('/')
            .clone_into(&mut self.entra_authority);
        self
    }

    pub(crate) fn entra_authority(&self) -> &str {
        &self.entra_authority
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.public_url
    }

    pub(crate) fn connection(&self) -> &ConnectionService {
        &self.connection
    }

    pub(crate) fn sessions(&self) -> &SessionService {
        &self.sessions
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn jwks_caches(&self) -> &JwksCaches {
        &self.jwks
    }

    pub(crate) fn now_naive(&self) -> chrono::NaiveDateTime {
        self.clock.now_naive()
    }

    /// Audits a refusal after a verified message or a used-up pending request (`sso.signin_refused` with
    /// `reason`, by `actor`) and gives the error to show. When even the audit fails, that failure is the
    /// error (a 503), not a silent refusal.
    pub(crate) fn refuse(
        &self,
        org: &OrgId,
        method: &'static str,
        reason: &'static str,
        actor: &'static str,
    ) -> SignInError {
        match self
            .sessions
            .record_sso_refusal_blocking(org, method, reason, actor)
        {
            Ok(()) => SignInError::refused(reason),
            Err(e) => e.into(),
        }
    }

    /// A refusal before anything was verified: counted, logged at debug, and never written (review H-1).
    pub(crate) fn reject_unverified(
        &self,
        org: &OrgId,
        method: &'static str,
        reason: &'static str,
    ) -> SignInError {
        tracing::debug!(org = %org, method, reason, "SSO sign-in refused before any verified message");
        if let Some(counter) = &self.unverified {
            counter.with_label_values(&[method, reason]).inc();
        }
        SignInError::refused(reason)
    }

    /// The SP entity ID of `org`: `{public_url}/sso/saml/{org}`.
    pub fn sp_entity_id(&self, org: &OrgId) -> String {
        format!("{}/sso/saml/{}", self.public_url, org.as_str())
    }

    /// The ACS URL of `org`.
    pub fn acs_url(&self, org: &OrgId) -> String {
        format!("{}/acs", self.sp_entity_id(org))
    }

    /// The SP metadata URL of `org`.
    pub fn metadata_url(&self, org: &OrgId) -> String {
        format!("{}/metadata", self.sp_entity_id(org))
    }

    /// Where a member of `org` starts signing in: `{public_url}/sso/{org}/start`.
    pub fn start_url(&self, org: &OrgId) -> String {
        format!("{}/sso/{}/start", self.public_url, org.as_str())
    }

    /// The SP metadata XML of `org` (served whether or not a connection exists yet: the admin hands it to the
    /// IdP before the IdP's side is known).
    pub fn sp_metadata(&self, org: &OrgId) -> String {
        saml::metadata::sp_metadata(&self.sp_entity_id(org), &self.acs_url(org))
    }

    /// Whether `org` has a connection members can sign in through.
    pub fn available_blocking(&self, org: &OrgId) -> Result<bool, SignInError> {
        Ok(self.connection.sign_in_settings_blocking(org)?.is_some())
    }

    /// Starts a sign-in to `org`, coming back to `return_to` (a local path; the org's settings page if none).
    pub fn start_blocking(&self, org: &OrgId, return_to: Option<&str>) -> Result<Started, SignInError> {
        self.start_forced_blocking(org, return_to, false)
    }

    /// [`SignInService::start_blocking`]; with `force` the IdP authenticates the member afresh (SAML
    /// `ForceAuthn`, Entra `prompt=login`): the OpenID Provider's `prompt=login` and `max_age`.
    pub fn start_forced_blocking(
        &self,
        org: &OrgId,
        return_to: Option<&str>,
        force: bool,
    ) -> Result<Started, SignInError> {
        let return_to = browser::return_path(return_to, format!("/admin/orgs/{}/sso", org.as_str()))?;
        let now = self.clock.now();
        // RelayState (SAML) or `state` (OIDC): the pending sign-in's name, as the browser carries it back.
        let relay_state = browser::random_value()?;
        let browser_cookie = browser::random_value()?;
        let (protocol, request_id, redirect_url) = match self.connection.sign_in_settings_blocking(org)? {
            Some(SignInSettings::Saml {
                entity_id,
                sso_url,
                certificates_pem,
                allow_unsolicited,
            }) => {
                let config = self.sp_config(org, &entity_id, &certificates_pem, allow_unsolicited)?;
                let request = saml::authn_request::build_with(&config, &sso_url, &relay_state, now, force)
                    .map_err(|e| SignInError::Misconfigured(e.to_string()))?;
                (PROTOCOL_SAML, request.request_id, request.redirect_url)
            }
            Some(SignInSettings::AzureAd {
                tenant_id, client_id, ..
            }) => {
                let config = self.entra_config(org, &tenant_id, &client_id)?;
                let nonce = browser::random_value()?;
                let verifier = browser::pkce_verifier(&browser_cookie, &relay_state);
                let url = config.authorize_url_with(
                    &scimd_sso::oidc::State::from_stored(relay_state.clone()),
                    &scimd_sso::oidc::Nonce::from_stored(nonce.clone()),
                    &verifier.challenge(),
                    force,
                );
                (PROTOCOL_OIDC, nonce, url)
            }
            None => return Err(SignInError::NoConnection),
        };
        let now_naive = self.clock.now_naive();
        let row = PendingLoginRow {
            id: browser::digest(&relay_state),
            org_id: org.as_str().to_owned(),
            protocol: protocol.to_owned(),
            request_id,
            browser_hash: browser::digest(&browser_cookie),
            secret_sealed: None,
            return_to,
            created_at: now_naive,
            expires_at: now_naive + PENDING_LIFETIME,
            consumed_at: None,
        };
        let cap = self.pending_cap;
        // The cap reads at most `cap` ids over the live-rows index: never the org's whole table.
        let admitted = self.store.write(|conn| {
            if sso_signin::live_pending_reaches(conn, org, now_naive, cap)? {
                return Ok::<_, scimd_store::StoreError>(false);
            }
            sso_signin::insert(conn, &row)?;
            Ok(true)
        })?;
        if !admitted {
            tracing::warn!(org = %org, cap, "SSO sign-in not started: the org has its most pending sign-ins");
            return Err(SignInError::TooManyPending);
        }
        Ok(Started {
            redirect_url,
            browser_cookie,
        })
    }

    /// The ACS: verifies the posted `SAMLResponse` for `org` and hands the sign-in off to the browser's next
    /// request ([`SignInService::complete_blocking`]), or refuses (audited). `browser_cookie` is the binding
    /// cookie the browser sent. The hand-off is bound to a fresh binding cookie (an IdP-initiated sign-in had
    /// none), which the answer sets.
    pub fn saml_acs_blocking(
        &self,
        org: &OrgId,
        saml_response: &str,
        relay_state: Option<&str>,
        browser_cookie: Option<&str>,
    ) -> Result<HandedOff, SignInError> {
        let config = match self.connection.sign_in_settings_blocking(org)? {
            Some(SignInSettings::Saml {
                entity_id,
                certificates_pem,
                allow_unsolicited,
                ..
            }) => self.sp_config(org, &entity_id, &certificates_pem, allow_unsolicited)?,
            _ => return Err(SignInError::NoConnection),
        };
        let unverified = |reason: &'static str| self.reject_unverified(org, PROTOCOL_SAML, reason);
        let now_naive = self.clock.now_naive();
        let pending = match relay_state.filter(|r| !r.is_empty()) {
            Some(relay) => {
                let id = browser::digest(relay);
                self.store
                    .write(|conn| sso_signin::consume(conn, org, &id, now_naive))?
            }
            None => None,
        };
        let (expect, return_to) = match &pending {
            Some(p) if p.protocol != PROTOCOL_SAML => return Err(unverified("relay_state_unknown")),
            Some(p) if !browser::same_browser(&p.browser_hash, browser_cookie) => {
                return Err(self.refuse(org, PROTOCOL_SAML, "browser_mismatch", ANONYMOUS_ACTOR));
            }
            Some(p) => (Expectation::Solicited(&p.request_id), p.return_to.clone()),
            // An IdP-initiated response (its RelayState, if any, is the IdP's own): only where allowed.
            None if config.allow_unsolicited() => (
                Expectation::Unsolicited,
                format!("/admin/orgs/{}/sso", org.as_str()),
            ),
            None if relay_state.is_some_and(|r| !r.is_empty()) => {
                return Err(unverified("relay_state_unknown"));
            }
            None => return Err(unverified("saml_unsolicited")),
        };
        let assertion = match saml::verify_response_staged(&config, saml_response, expect, self.clock.now()) {
            Ok(a) => a,
            Err(f) if f.signature_verified => {
                return Err(self.refuse(org, PROTOCOL_SAML, f.error.reason_code(), IDP_ACTOR));
            }
            Err(f) => return Err(unverified(f.error.reason_code())),
        };
        let keep_until = assertion.replay_keep_until.naive_utc();
        let (token, next_cookie) = (browser::random_value()?, browser::random_value()?);
        let handoff = SsoHandOff {
            id: browser::digest(&token),
            browser_hash: browser::digest(&next_cookie),
            return_to: &return_to,
            lifetime: TimeDelta::seconds(HANDOFF_SECS),
        };
        let refused = self.sessions.hand_off_sso_blocking(
            org,
            PROTOCOL_SAML,
            assertion.session_not_on_or_after,
            &handoff,
            |conn| {
                if !sso_signin::record_assertion(conn, org, &assertion.assertion_id, keep_until)? {
                    return Ok(SsoDecision::Refuse(SsoRefusal::new("saml_replayed", None)));
                }
                let ids: Vec<&str> = [assertion.object_id.as_deref(), Some(assertion.name_id.as_str())]
                    .into_iter()
                    .flatten()
                    .collect();
                // The NameID as userName, never the e-mail attribute (review 3, M-1).
                let names = [assertion.name_id.as_str()];
                Ok(identity::find_member(conn, org, &ids, &names)?)
            },
        )?;
        if let Some(refusal) = refused {
            return Err(SignInError::refused_returning(refusal.reason, return_to));
        }
        Ok(HandedOff {
            url: format!("/sso/{}/complete?handoff={token}", org.as_str()),
            browser_cookie: next_cookie,
        })
    }

    /// `GET /sso/{org}/complete?handoff=`: collects the hand-off the ACS recorded, with the binding cookie the
    /// ACS set (`browser_cookie`), and opens the session, ending `replacing` (the browser's current session
    /// cookie, which this same-site request carries). Anything but a live hand-off of this browser is refused
    /// unaudited (anyone can make up a token).
    pub fn complete_blocking(
        &self,
        org: &OrgId,
        handoff: &str,
        browser_cookie: Option<&str>,
        replacing: Option<&str>,
    ) -> Result<Finished, SignInError> {
        let unknown = || self.reject_unverified(org, PROTOCOL_SAML, "handoff_unknown");
        let (Some(cookie), false) = (browser_cookie, handoff.is_empty()) else {
            return Err(unknown());
        };
        let completion = self.sessions.complete_sso_blocking(
            org,
            &browser::digest(handoff),
            &browser::digest(cookie),
            replacing,
        )?;
        match completion {
            SsoCompletion::SignedIn { session, return_to } => Ok(Finished { session, return_to }),
            SsoCompletion::Refused { refusal, return_to } => {
                Err(SignInError::refused_returning(refusal.reason, return_to))
            }
            SsoCompletion::Unknown => Err(unknown()),
        }
    }

    fn sp_config(
        &self,
        org: &OrgId,
        idp_entity_id: &str,
        certificates_pem: &[String],
        allow_unsolicited: bool,
    ) -> Result<SpConfig, SignInError> {
        let pems: Vec<&str> = certificates_pem.iter().map(String::as_str).collect();
        SpConfig::new(&self.public_url, org.as_str(), idp_entity_id, &pems)
            .map(|c| c.with_allow_unsolicited(allow_unsolicited))
            .map_err(|e| SignInError::Misconfigured(e.to_string()))
    }
}
