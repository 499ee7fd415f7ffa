//! [`OidcError`]: why an Entra sign-in step failed. `reason_code()` is stable for the audit trail;
//! `Display` never contains a token, code, secret, nonce or e-mail address.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    #[error("the authority must be an https URL (http only for loopback) without query or fragment")]
    BadAuthority,
    #[error("the tenant ID must be a tenant's GUID (not common, organizations, consumers or the MSA tenant)")]
    BadTenant,
    #[error("the client ID must be a GUID")]
    BadClientId,
    #[error("the redirect URI must be an absolute https URL (http only for loopback)")]
    BadRedirectUri,
    #[error(transparent)]
    Random(#[from] crate::RandomError),
    #[error("the IdP answered the authorization request with error {error}")]
    IdpError { error: String },
    #[error("the callback's state does not match the pending sign-in")]
    StateMismatch,
    #[error("the callback carries no authorization code")]
    MissingCode,
    #[error("the ID token is malformed: {0}")]
    MalformedToken(&'static str),
    #[error("the ID token's algorithm {alg} is not allowed (RS256 only)")]
    AlgorithmNotAllowed { alg: String },
    #[error("the ID token header names no key (kid)")]
    MissingKid,
    #[error("the ID token's key is not in the tenant's JWKS, even after a refresh")]
    UnknownKid,
    #[error("the ID token's signature does not verify")]
    SignatureInvalid,
    #[error("the ID token's issuer is not this tenant's v2.0 issuer")]
    WrongIssuer,
    #[error("the ID token's audience is not this client")]
    WrongAudience,
    #[error("the ID token's tenant (tid) is not the configured tenant")]
    WrongTenant,
    #[error("the ID token is not a v2.0 token")]
    WrongVersion,
    #[error("the ID token's nonce does not match the pending sign-in")]
    NonceMismatch,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token is not yet valid")]
    NotYetValid,
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    #[error("the ID token has no object ID (oid)")]
    MissingObjectId,
    #[error("the JWKS document is invalid")]
    JwksInvalid,
    #[error("the JWKS could not be fetched: {0}")]
    JwksUnavailable(String),
    #[error("the HTTP request failed: {0}")]
    Http(String),
    #[error("the HTTP response is larger than {limit} bytes")]
    ResponseTooLarge { limit: usize },
    #[error("the server answered with a redirect, which is never followed")]
    Redirected,
    #[error("the token endpoint answered {status}: {error}")]
    TokenEndpoint { status: u16, error: String },
}

impl OidcError {
    /// The stable code recorded in the audit trail, e.g. `oidc_wrong_tenant`.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::BadAuthority => "oidc_bad_authority",
            Self::BadTenant => "oidc_bad_tenant",
            Self::BadClientId => "oidc_bad_client_id",
            Self::BadRedirectUri => "oidc_bad_redirect_uri",
            Self::Random(_) => "oidc_random_failed",
            Self::IdpError { .. } => "oidc_idp_error",
            Self::StateMismatch => "oidc_state_mismatch",
            Self::MissingCode => "oidc_missing_code",
            Self::MalformedToken(_) => "oidc_malformed_token",
            Self::AlgorithmNotAllowed { .. } => "oidc_alg_not_allowed",
            Self::MissingKid => "oidc_missing_kid",
            Self::UnknownKid => "oidc_unknown_kid",
            Self::SignatureInvalid => "oidc_signature_invalid",
            Self::WrongIssuer => "oidc_wrong_issuer",
            Self::WrongAudience => "oidc_wrong_audience",
            Self::WrongTenant => "oidc_wrong_tenant",
            Self::WrongVersion => "oidc_wrong_version",
            Self::NonceMismatch => "oidc_nonce_mismatch",
            Self::Expired => "oidc_expired",
            Self::NotYetValid => "oidc_not_yet_valid",
            Self::IssuedInFuture => "oidc_issued_in_future",
            Self::MissingObjectId => "oidc_missing_oid",
            Self::JwksInvalid => "oidc_jwks_invalid",
            Self::JwksUnavailable(_) => "oidc_jwks_unavailable",
            Self::Http(_) => "oidc_http_failed",
            Self::ResponseTooLarge { .. } => "oidc_response_too_large",
            Self::Redirected => "oidc_redirected",
            Self::TokenEndpoint { .. } => "oidc_token_endpoint_error",
        }
    }
}

/// Keep IdP-supplied strings short and printable before they reach a log line.
pub(crate) fn sanitize(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).take(200).collect()
}
