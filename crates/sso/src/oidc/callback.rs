//! [`read_callback`]: the query string Entra sends to the `redirect_uri`. The IdP's `error` wins (e.g. the
//! user declined: `access_denied`); otherwise `state` must match the pending sign-in and a `code` be present.

use super::{OidcError, State, error::sanitize};

/// The authorization code, to redeem once at the token endpoint. `Debug` prints nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCode(String);

impl AuthorizationCode {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthorizationCode(<redacted>)")
    }
}

/// Read the callback's raw query string (without `?`) against the pending sign-in's `state`.
pub fn read_callback(query: &str, expected_state: &State) -> Result<AuthorizationCode, OidcError> {
    let (mut state, mut code, mut error) = (None, None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match &*key {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            _ => continue,
        };
        if slot.is_some() {
            // A repeated parameter is ambiguous; never pick one.
            return Err(OidcError::StateMismatch);
        }
        *slot = Some(value.into_owned());
    }
    if let Some(error) = error {
        return Err(OidcError::IdpError {
            error: sanitize(&error),
        });
    }
    match state {
        Some(s) if expected_state.matches(&s) => {}
        _ => return Err(OidcError::StateMismatch),
    }
    code.filter(|c| !c.is_empty())
        .map(AuthorizationCode)
        .ok_or(OidcError::MissingCode)
}
