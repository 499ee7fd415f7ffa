//! The SP-initiated `AuthnRequest`, HTTP-Redirect binding (Bindings §3.4): raw DEFLATE, base64, URL-encoded
//! into `SAMLRequest`, with the caller's opaque `RelayState`. Unsigned (Entra accepts that, and it keeps
//! RSA private-key operations out of production). The ID is `_` + 32 hex characters (Entra: an ID must not
//! begin with a digit); there is no `Subject` (Entra refuses one). The caller stores the ID as the pending
//! request and later passes it to [`super::verify_response`] as [`super::Expectation::Solicited`].

use super::xml::escape;
use super::{SpConfig, binding, names};
use crate::random;
use chrono::{DateTime, SecondsFormat, Utc};

/// Bindings §3.4.3: RelayState must not exceed 80 bytes.
pub const MAX_RELAY_STATE: usize = 80;

/// A request ready to send: redirect the browser (303) to `redirect_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `_` + 32 hex characters: the pending request's key.
    pub request_id: String,
    pub redirect_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthnRequestError {
    #[error("the IdP SSO URL must be https (http only on loopback) without a fragment")]
    BadSsoUrl,
    #[error("RelayState must be 1 to 80 bytes")]
    BadRelayState,
    #[error(transparent)]
    Random(#[from] random::RandomError),
    #[error("the request could not be encoded")]
    Encoding,
}

/// Build the AuthnRequest for `config`'s org, to the IdP's HTTP-Redirect `sso_url`, at `now`.
pub fn build(
    config: &SpConfig,
    sso_url: &str,
    relay_state: &str,
    now: DateTime<Utc>,
) -> Result<AuthnRequest, AuthnRequestError> {
    build_with(config, sso_url, relay_state, now, false)
}

/// [`build`], and with `force_authn` the request asks the IdP to authenticate the user afresh rather than
/// rely on its own session (`ForceAuthn="true"`, SAML Core §3.4.1): the OpenID Provider's `prompt=login` and
/// `max_age`.
pub fn build_with(
    config: &SpConfig,
    sso_url: &str,
    relay_state: &str,
    now: DateTime<Utc>,
    force_authn: bool,
) -> Result<AuthnRequest, AuthnRequestError> {
    let mut url = crate::url_policy::https_or_loopback(sso_url).ok_or(AuthnRequestError::BadSsoUrl)?;
    if url.fragment().is_some() {
        return Err(AuthnRequestError::BadSsoUrl);
    }
    if relay_state.is_empty() || relay_state.len() > MAX_RELAY_STATE {
        return Err(AuthnRequestError::BadRelayState);
    }
    let request_id = format!("_{}", random::hex::<16>()?);
    let xml = format!(
        concat!(
            r#"<samlp:AuthnRequest xmlns:samlp="{protocol}" xmlns:saml="{assertion}" ID="{id}" Version="2.0" "#,
            r#"IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}" "#,
            r#"ProtocolBinding="{binding}"{force}><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"#
        ),
        protocol = names::PROTOCOL,
        assertion = names::ASSERTION,
        id = request_id,
        instant = now.to_rfc3339_opts(SecondsFormat::Secs, true),
        destination = escape(sso_url),
        acs = escape(config.acs_url()),
        binding = names::BINDING_POST,
        issuer = escape(config.sp_entity_id()),
        force = if force_authn { r#" ForceAuthn="true""# } else { "" },
    );
    let encoded = binding::deflate_encode(&xml).map_err(|_| AuthnRequestError::Encoding)?;
    url.query_pairs_mut()
        .append_pair("SAMLRequest", &encoded)
        .append_pair("RelayState", relay_state);
    Ok(AuthnRequest {
        request_id,
        redirect_url: url.into(),
    })
}
