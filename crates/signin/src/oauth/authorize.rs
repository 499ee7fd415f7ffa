//! The authorize endpoint's rules: the client and its exact redirect URI checked first (until both hold,
//! errors are shown, not redirected), then the response type, scope, PKCE S256, `prompt` and `max_age`; then
//! the org (named, or the one org where the login hint is a member's userName); a code issued only for a live
//! session of that org (its SHA-256 stored, single use, 5 minutes). Every response to the client carries `iss`
//! (RFC 9207).
//!
//! Step-up (OIDC Core §3.1.2.1, review 3 L-3): with `prompt=login`, or `max_age` and a session signed in
//! longer ago, the member signs in again at the org's IdP, forced (SAML `ForceAuthn`, Entra `prompt=login`),
//! and the request comes back with `scimd_auth_after`, the instant the re-authentication was asked for: only
//! a session that started after it, within the pending sign-in's 10 minutes, gets the code (so a hand-made
//! `scimd_auth_after` cannot stand in for a fresh sign-in). With `prompt=none` the client hears
//! `login_required` instead. The ID token's `auth_time` lets the client check for itself.

use super::{OAuthProvider, ProviderError, digest, random};
use chrono::{Duration, NaiveDateTime};
use scimd_store::models::oauth::{self, OAuthCode};
use scimd_store::models::{admin_sessions, members};
use scimd_store::{MemberId, OrgId, SessionId, StoreError};

const CODE_LIFETIME: Duration = Duration::minutes(5);

/// An authorize request's parameters (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub code_challenge_method: String,
    /// Space-separated: `none`, `login` (others, such as `consent`, need nothing here).
    pub prompt: String,
    /// The longest time since the member signed in that the client accepts, in seconds.
    pub max_age: Option<String>,
    /// `scimd_auth_after`: this request came back from a re-authentication asked for at this Unix time.
    pub auth_after: Option<String>,
}

/// How long after asking for it a re-authentication may come back (the pending sign-in's lifetime).
const REAUTH_WINDOW_SECS: i64 = 600;

/// Which org an authorize request is for: `org` when given, else the one org where `login_hint` is a member's
/// userName.
#[derive(Debug, Clone, Default)]
pub struct OrgChoice {
    pub org: String,
    pub login_hint: String,
}

/// The longest login hint looked up (an e-mail address is at most 320 characters).
const MAX_LOGIN_HINT: usize = 320;

/// Where an authorize request sends the browser, once its client and redirect URI check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// Back to the client: its redirect URI with a code, or with an error the client handles.
    Redirect(String),
    /// No live session of this org: its sign-in first, then the same request again.
    SignIn(OrgId),
    /// The request wants a fresh sign-in (`prompt=login`, `max_age`): the org's sign-in, forced at the IdP,
    /// then the same request again with `scimd_auth_after=auth_after`. Where the org's connection cannot force
    /// one (there is none), send the browser to `login_required`, the client's error redirect.
    Reauthenticate {
        org: OrgId,
        auth_after: i64,
        login_required: String,
    },
}

/// A checked authorize request: errors from here on go back to the client's redirect URI.
#[derive(Debug, Clone)]
pub struct CheckedAuthorize {
    request: AuthorizeRequest,
    issuer: String,
}

impl CheckedAuthorize {
    /// `redirect_uri?error=...&state=...`.
    pub fn error_redirect(&self, error: &str) -> String {
        self.redirect(&[("error", error)])
    }

    fn redirect(&self, params: &[(&str, &str)]) -> String {
        let mut url = self.request.redirect_uri.clone();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            query.append_pair(k, v);
        }
        if let Some(state) = &self.request.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &self.issuer);
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.finish());
        url
    }
}

/// The session a code is issued from.
#[derive(Debug, Clone)]
pub struct SignedInAs {
    pub org: OrgId,
    pub member: MemberId,
    pub session: SessionId,
}

impl OAuthProvider {
    /// The authorize endpoint. `InvalidClient` and `InvalidRequest` errors come before the redirect URI is
    /// trusted: show them, never redirect (RFC 6749 §4.1.2.1). `signed_in` gives the browser's live session,
    /// if any; it is asked only once the request and the org check out, and a session of another org does not
    /// count. With `prompt=none` and no session fresh enough the client hears `login_required`.
    pub fn authorize_blocking(
        &self,
        request: AuthorizeRequest,
        choice: &OrgChoice,
        signed_in: impl FnOnce() -> Result<Option<SignedInAs>, ProviderError>,
    ) -> Result<Authorization, ProviderError> {
        let checked = match self.check_authorize(request)? {
            Ok(checked) => checked,
            Err((checked, error)) => return Ok(Authorization::Redirect(checked.error_redirect(error))),
        };
        let Some(org) = self.choose_org(choice)? else {
            return Ok(Authorization::Redirect(checked.error_redirect("invalid_request")));
        };
        let r = &checked.request;
        let prompts: Vec<&str> = r.prompt.split(' ').filter(|p| !p.is_empty()).collect();
        let prompt_none = prompts.contains(&"none");
        let prompt_login = prompts.contains(&"login");
        if prompt_none && prompts.len() > 1 {
            return Ok(Authorization::Redirect(checked.error_redirect("invalid_request")));
        }
        let max_age = match r.max_age.as_deref().map(str::parse::<u32>) {
            None => None,
            Some(Ok(secs)) => Some(i64::from(secs)),
            Some(Err(_)) => return Ok(Authorization::Redirect(checked.error_redirect("invalid_request"))),
        };
        // OIDC Core §3.1.2.1 (errata set 2): `max_age=0` is `prompt=login`.
        let prompt_login = prompt_login || max_age == Some(0);
        let now = self.clock.now_naive();
        let now_secs = now.and_utc().timestamp();
        // A re-authentication asked for within the window: the session must have started after it.
        let auth_after = r
            .auth_after
            .as_deref()
            .and_then(|t| t.parse::<i64>().ok())
            .filter(|t| *t <= now_secs && now_secs - t <= REAUTH_WINDOW_SECS);
        let who = match signed_in()?.filter(|who| who.org == org) {
            Some(who) => {
                let auth_time = self.auth_time(&who)?;
                Some((who, auth_time))
            }
            None => None,
        };
        let fresh = |auth_time: NaiveDateTime| {
            let signed_in_at = auth_time.and_utc().timestamp();
            match auth_after {
                Some(after) => signed_in_at >= after,
                None => !prompt_login && max_age.is_none_or(|max| now_secs - signed_in_at <= max),
            }
        };
        match who {
            Some((who, Some(auth_time))) if fresh(auth_time) => {
                Ok(Authorization::Redirect(self.issue_code(&checked, &who)?))
            }
            _ if prompt_none => Ok(Authorization::Redirect(checked.error_redirect("login_required"))),
            _ if prompt_login || max_age.is_some() => Ok(Authorization::Reauthenticate {
                org,
                auth_after: now_secs,
                login_required: checked.error_redirect("login_required"),
            }),
            _ => Ok(Authorization::SignIn(org)),
        }
    }

    /// Where a browser whose sign-in was refused (not provisioned, deactivated) goes back to the client:
    /// `return_to` is the path the sign-in was to return to; when it is an authorize request whose client and
    /// redirect URI check out, that redirect URI with `error=access_denied` (OIDC Core §3.1.2.6), else none.
    pub fn denied_redirect_blocking(&self, return_to: &str) -> Result<Option<String>, ProviderError> {
        let Some(query) = return_to.strip_prefix("/oauth/authorize?") else {
            return Ok(None);
        };
        let mut request = AuthorizeRequest::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "client_id" => request.client_id = v.into_owned(),
                "redirect_uri" => request.redirect_uri = v.into_owned(),
                "state" => request.state = Some(v.into_owned()),
                _ => {}
            }
        }
        match self.check_authorize(request) {
            Ok(Ok(checked) | Err((checked, _))) => Ok(Some(checked.error_redirect("access_denied"))),
            Err(ProviderError::InvalidClient | ProviderError::InvalidRequest(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// When the member of `who` signed in: the session's start (a session gone counts as none).
    fn auth_time(&self, who: &SignedInAs) -> Result<Option<NaiveDateTime>, ProviderError> {
        let session = self.store.read(|conn| admin_sessions::find(conn, &who.session))?;
        Ok(session.map(|s| s.created_at))
    }

    /// The org named, or the one org where the hint is a member's userName (none when it is in two).
    fn choose_org(&self, choice: &OrgChoice) -> Result<Option<OrgId>, ProviderError> {
        let (org, hint) = (choice.org.trim(), choice.login_hint.trim());
        if !org.is_empty() {
            return Ok(Some(OrgId::new(org.to_owned())));
        }
        if hint.is_empty() || hint.len() > MAX_LOGIN_HINT {
            return Ok(None);
        }
        let orgs = self
            .store
            .read(|conn| members::orgs_with_user_name(conn, hint, 2))?;
        Ok(match orgs.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }

    /// Checks the client and its exact redirect URI first: until both hold, errors are shown, not redirected
    /// (RFC 6749 §4.1.2.1). Then the response type, scope and PKCE, whose errors go back to the client.
    fn check_authorize(
        &self,
        request: AuthorizeRequest,
    ) -> Result<Result<CheckedAuthorize, (CheckedAuthorize, &'static str)>, ProviderError> {
        let client = self
            .store
            .read(|conn| oauth::find_client(conn, &request.client_id))?
            .ok_or(ProviderError::InvalidClient)?;
        let uris: Vec<String> = serde_json::from_str(&client.redirect_uris).map_err(StoreError::from)?;
        if !uris.contains(&request.redirect_uri) {
            return Err(ProviderError::InvalidRequest(
                "redirect_uri is not registered for this client".into(),
            ));
        }
        let checked = CheckedAuthorize {
            request,
            issuer: self.issuer.clone(),
        };
        let r = &checked.request;
        let error = if r.response_type != "code" {
            Some("unsupported_response_type")
        } else if !r.scope.split(' ').any(|s| s == "openid") {
            Some("invalid_scope")
        } else if r.code_challenge_method != "S256" || r.code_challenge.len() != 43 {
            Some("invalid_request")
        } else {
            None
        };
        Ok(match error {
            Some(e) => Err((checked, e)),
            None => Ok(checked),
        })
    }

    /// Issues a code for `who` (a live session of the org) and gives the client's redirect with it.
    fn issue_code(&self, checked: &CheckedAuthorize, who: &SignedInAs) -> Result<String, ProviderError> {
        let code = random("scimd_code_")?;
        let now = self.clock.now_naive();
        let r = &checked.request;
        let row = OAuthCode {
            code_hash: digest(&code),
            client_id: r.client_id.clone(),
            org_id: who.org.as_str().to_owned(),
            member_id: who.member.as_str().to_owned(),
            session_id: who.session.as_str().to_owned(),
            redirect_uri: r.redirect_uri.clone(),
            code_challenge: r.code_challenge.clone(),
            nonce: r.nonce.clone(),
            scope: r.scope.clone(),
            created_at: now,
            expires_at: now + CODE_LIFETIME,
            used_at: None,
        };
        self.store.write(|conn| oauth::insert_code(conn, &row))?;
        Ok(checked.redirect(&[("code", &code)]))
    }
}
