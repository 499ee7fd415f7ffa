//! The authorize endpoint's rules: the client and its exact redirect URI checked first (until both hold,
//! errors are shown, not redirected), then the response type, scope and PKCE S256; then the org (named, or the
//! one org where the login hint is a member's userName); a code issued only for a live session of that org
//! (its SHA-256 stored, single use, 5 minutes).

use super::{OAuthProvider, ProviderError, digest, random};
use chrono::Duration;
use scimd_store::models::members;
use scimd_store::models::oauth::{self, OAuthCode};
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
}

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
}

/// A checked authorize request: errors from here on go back to the client's redirect URI.
#[derive(Debug, Clone)]
pub struct CheckedAuthorize {
    request: AuthorizeRequest,
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
    /// count. With `prompt_none` and no session the client hears `login_required`.
    pub fn authorize_blocking(
        &self,
        request: AuthorizeRequest,
        choice: &OrgChoice,
        prompt_none: bool,
        signed_in: impl FnOnce() -> Result<Option<SignedInAs>, ProviderError>,
    ) -> Result<Authorization, ProviderError> {
        let checked = match self.check_authorize(request)? {
            Ok(checked) => checked,
            Err((checked, error)) => return Ok(Authorization::Redirect(checked.error_redirect(error))),
        };
        let Some(org) = self.choose_org(choice)? else {
            return Ok(Authorization::Redirect(checked.error_redirect("invalid_request")));
        };
        match signed_in()?.filter(|who| who.org == org) {
            Some(who) => Ok(Authorization::Redirect(self.issue_code(&checked, &who)?)),
            None if prompt_none => Ok(Authorization::Redirect(checked.error_redirect("login_required"))),
            None => Ok(Authorization::SignIn(org)),
        }
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
        let checked = CheckedAuthorize { request };
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
