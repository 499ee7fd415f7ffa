//! "Sign in with scimd": scimd as an OpenID Provider for the platform it serves, so the platform never parses
//! SAML or talks to an org's IdP itself. Authorization code flow with PKCE S256 and a client secret; the
//! person signs in through their org's connection (this crate's SAML or Entra sign-in), and the code is only
//! as good as the admin session it was issued from:
//!
//! - [`OAuthProvider::authorize_blocking`]: an authorize request checked (client, exact redirect URI, S256,
//!   `openid`), and, for a live session of the right org, a code (its SHA-256 stored, single use, 5 minutes);
//! - [`OAuthProvider::token_blocking`]: the code redeemed by its client with the PKCE verifier: an ID token
//!   (EdDSA; `sub` the member id, `org_id`, `email`, `name`, `groups` when asked, `sid`) and an access token
//!   (its SHA-256 stored) for userinfo and introspection;
//! - [`OAuthProvider::introspect_blocking`] (RFC 7662) and [`OAuthProvider::userinfo_blocking`]: active only
//!   while the session lives and the member is active, so a deprovisioning shows at once;
//! - the signing keys: Ed25519, generated on first use, sealed under the server's secret key, rotated by
//!   `scimd oauth-key rotate` (the previous key stays in the JWKS).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use scimd_store::models::oauth::{self, OAuthAccessToken, OAuthClient, OAuthCode, SigningKeyRow};
use scimd_store::models::{admin_sessions, groups, members};
use scimd_store::{Clock, DbConnection, MemberId, OrgId, SessionId, Store, StoreError};
use scimd_tokens::SecretKey;
use scimd_tokens::cipher::SecretCipher;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

const CODE_LIFETIME: Duration = Duration::minutes(5);
const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
const ID_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// The most redirect URIs a client may register, and the longest one.
const MAX_REDIRECT_URIS: usize = 10;
const MAX_REDIRECT_URI_LEN: usize = 2048;
/// The key's seal is bound to this pseudo-org and purpose (the cipher's associated data).
const KEY_SEAL_ORG: &str = "oauth-provider";
/// RFC 8410's PKCS#8 wrapping of an Ed25519 seed: this prefix, then the 32 bytes.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Why an OAuth request was refused, as RFC 6749 names it (`code()`); the surface maps it to HTTP once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant")]
    InvalidGrant,
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("unsupported_response_type")]
    UnsupportedResponseType,
    #[error("invalid_scope")]
    InvalidScope,
    #[error("invalid_token")]
    InvalidToken,
    #[error("the signing key could not be used: {0}")]
    Key(String),
    #[error("the operating system's random generator failed")]
    Random,
    #[error(transparent)]
    Token(#[from] scimd_tokens::TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl scimd_store::UnitError for ProviderError {}

impl ProviderError {
    /// The `error` of the OAuth error response.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::InvalidRequest(_) => "invalid_request",
            ProviderError::InvalidClient => "invalid_client",
            ProviderError::InvalidGrant => "invalid_grant",
            ProviderError::UnsupportedGrantType => "unsupported_grant_type",
            ProviderError::UnsupportedResponseType => "unsupported_response_type",
            ProviderError::InvalidScope => "invalid_scope",
            ProviderError::InvalidToken => "invalid_token",
            ProviderError::Key(_)
            | ProviderError::Random
            | ProviderError::Token(_)
            | ProviderError::Store(_) => "server_error",
        }
    }
}

/// A client as created: the secret exists here once.
#[derive(Clone, Serialize)]
pub struct CreatedClient {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for CreatedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

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

/// The token endpoint's form (client credentials may also come by HTTP Basic).
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: String,
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
}

#[derive(Clone)]
pub struct OAuthProvider {
    store: Store,
    clock: Arc<dyn Clock>,
    /// The issuer: scimd's public URL.
    issuer: String,
    secret_key: Option<SecretKey>,
}

impl fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn digest(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

fn random(prefix: &str) -> Result<String, ProviderError> {
    use rand::TryRng as _;
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| ProviderError::Random)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

fn secret_matches(stored_hash: &[u8], presented: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(digest(presented).ct_eq(stored_hash))
}

impl OAuthProvider {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        public_url: &str,
        secret_key: Option<SecretKey>,
    ) -> OAuthProvider {
        OAuthProvider {
            store,
            clock,
            issuer: public_url.trim_end_matches('/').to_owned(),
            secret_key,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The discovery document (`/.well-known/openid-configuration`).
    pub fn discovery(&self) -> Value {
        let at = |path: &str| format!("{}{path}", self.issuer);
        json!({
            "issuer": self.issuer,
            "authorization_endpoint": at("/oauth/authorize"),
            "token_endpoint": at("/oauth/token"),
            "userinfo_endpoint": at("/oauth/userinfo"),
            "jwks_uri": at("/oauth/jwks"),
            "introspection_endpoint": at("/oauth/introspect"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "org_id", "email", "name", "groups"],
        })
    }

    /// Registers a client; `redirect_uris` are matched exactly (https, or http to loopback).
    pub fn create_client_blocking(
        &self,
        name: &str,
        redirect_uris: &[String],
    ) -> Result<CreatedClient, ProviderError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(ProviderError::InvalidRequest(
                "the name must be 1 to 200 characters".into(),
            ));
        }
        if redirect_uris.is_empty() || redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(ProviderError::InvalidRequest(format!(
                "give 1 to {MAX_REDIRECT_URIS} redirect URIs"
            )));
        }
        for uri in redirect_uris {
            check_redirect_uri(uri)?;
        }
        let client_id = format!("scimd_client_{}", uuid_like()?);
        let client_secret = random("scimd_cs_")?;
        let row = OAuthClient {
            id: client_id.clone(),
            name: name.to_owned(),
            secret_hash: digest(&client_secret),
            redirect_uris: serde_json::to_string(redirect_uris).map_err(StoreError::from)?,
            created_at: self.clock.now_naive(),
            revoked_at: None,
        };
        self.store.write(|conn| oauth::insert_client(conn, &row))?;
        tracing::info!(client_id = %client_id, "OAuth client registered");
        Ok(CreatedClient {
            client_id,
            client_secret,
        })
    }

    pub fn list_clients_blocking(&self) -> Result<Vec<OAuthClient>, ProviderError> {
        Ok(self.store.read(oauth::list_clients)?)
    }

    /// Checks the client and its exact redirect URI first: until both hold, errors are shown, not redirected
    /// (RFC 6749 §4.1.2.1). Then the response type, scope and PKCE, whose errors go back to the client.
    pub fn check_authorize_blocking(
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
    pub fn issue_code_blocking(
        &self,
        checked: &CheckedAuthorize,
        who: &SignedInAs,
    ) -> Result<String, ProviderError> {
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

    /// The token endpoint: `client` is (id, secret) from HTTP Basic or the form.
    pub fn token_blocking(&self, client: (&str, &str), form: &TokenRequest) -> Result<Value, ProviderError> {
        if form.grant_type != "authorization_code" {
            return Err(ProviderError::UnsupportedGrantType);
        }
        let now = self.clock.now();
        let now_naive = self.clock.now_naive();
        let access_token = random("scimd_at_")?;
        let (code, session, member, group_ids, key) = self.store.write(|conn| {
            let client_row = authenticate(conn, client)?;
            let code = oauth::consume_code(conn, &digest(&form.code), now_naive)?
                .ok_or(ProviderError::InvalidGrant)?;
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
            if code.client_id != client_row.id
                || code.redirect_uri != form.redirect_uri
                || challenge != code.code_challenge
            {
                return Err(ProviderError::InvalidGrant);
            }
            let org = OrgId::new(code.org_id.clone());
            let Some((session, member)) =
                live_session(conn, &org, &code.member_id, &code.session_id, now_naive)?
            else {
                return Err(ProviderError::InvalidGrant);
            };
            let group_ids = if code.scope.split(' ').any(|s| s == "groups") {
                Some(groups::ids_of_member(conn, &org, &member.member_id())?)
            } else {
                None
            };
            let expires_at = (now_naive + ACCESS_TOKEN_LIFETIME).min(session.expires_at);
            oauth::insert_access_token(
                conn,
                &OAuthAccessToken {
                    token_hash: digest(&access_token),
                    client_id: client_row.id.clone(),
                    org_id: code.org_id.clone(),
                    member_id: code.member_id.clone(),
                    session_id: code.session_id.clone(),
                    scope: code.scope.clone(),
                    created_at: now_naive,
                    expires_at,
                },
            )?;
            let key = self.signing_key(conn, now_naive)?;
            Ok((code, session, member, group_ids, key))
        })?;
        let exp = (now + ID_TOKEN_LIFETIME).min(session.expires_at.and_utc());
        let mut claims = json!({
            "iss": self.issuer,
            "sub": code.member_id,
            "aud": code.client_id,
            "exp": exp.timestamp(),
            "iat": now.timestamp(),
            "auth_time": session.created_at.and_utc().timestamp(),
            "sid": code.session_id,
            "org_id": code.org_id,
            "email": member.email.clone().unwrap_or_else(|| member.user_name.clone()),
            "name": member.display_name.clone().unwrap_or_else(|| member.user_name.clone()),
        });
        if let Some(nonce) = &code.nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(ids) = group_ids {
            claims["groups"] = json!(ids);
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        let id_token = jsonwebtoken::encode(&header, &claims, &key.encoding)
            .map_err(|e| ProviderError::Key(e.to_string()))?;
        let expires_in = (exp.min(
            (now_naive + ACCESS_TOKEN_LIFETIME)
                .min(session.expires_at)
                .and_utc(),
        ) - now)
            .num_seconds();
        Ok(json!({
            "token_type": "Bearer",
            "access_token": access_token,
            "expires_in": expires_in.max(0),
            "id_token": id_token,
            "scope": code.scope,
        }))
    }

    /// RFC 7662: `active` only while the token, its session and its member all live. The calling client must
    /// authenticate; a token of another client is reported inactive.
    pub fn introspect_blocking(&self, client: (&str, &str), token: &str) -> Result<Value, ProviderError> {
        let now = self.clock.now_naive();
        self.store.read(|conn| {
            let client_row = authenticate(conn, client)?;
            let Some(row) = oauth::find_access_token(conn, &digest(token))? else {
                return Ok(json!({"active": false}));
            };
            if row.client_id != client_row.id || row.expires_at <= now {
                return Ok(json!({"active": false}));
            }
            let org = OrgId::new(row.org_id.clone());
            if live_session(conn, &org, &row.member_id, &row.session_id, now)?.is_none() {
                return Ok(json!({"active": false}));
            }
            Ok(json!({
                "active": true,
                "client_id": row.client_id,
                "sub": row.member_id,
                "org_id": row.org_id,
                "sid": row.session_id,
                "scope": row.scope,
                "token_type": "Bearer",
                "exp": row.expires_at.and_utc().timestamp(),
                "iat": row.created_at.and_utc().timestamp(),
                "iss": self.issuer,
            }))
        })
    }

    /// The userinfo endpoint for a Bearer access token.
    pub fn userinfo_blocking(&self, token: &str) -> Result<Value, ProviderError> {
        let now = self.clock.now_naive();
        self.store.read(|conn| {
            let row = oauth::find_access_token(conn, &digest(token))?.ok_or(ProviderError::InvalidToken)?;
            if row.expires_at <= now {
                return Err(ProviderError::InvalidToken);
            }
            let org = OrgId::new(row.org_id.clone());
            let Some((_, member)) = live_session(conn, &org, &row.member_id, &row.session_id, now)? else {
                return Err(ProviderError::InvalidToken);
            };
            let mut info = json!({
                "sub": row.member_id,
                "org_id": row.org_id,
                "email": member.email.clone().unwrap_or_else(|| member.user_name.clone()),
                "name": member.display_name.clone().unwrap_or_else(|| member.user_name.clone()),
            });
            if row.scope.split(' ').any(|s| s == "groups") {
                info["groups"] = json!(groups::ids_of_member(conn, &org, &member.member_id())?);
            }
            Ok(info)
        })
    }

    /// The published keys (`/oauth/jwks`); creates the first key on first use.
    pub fn jwks_blocking(&self) -> Result<Value, ProviderError> {
        let now = self.clock.now_naive();
        let keys = self.store.write(|conn| {
            if oauth::live_signing_keys(conn)?.is_empty() {
                self.insert_key(conn, now)?;
            }
            Ok::<_, ProviderError>(oauth::live_signing_keys(conn)?)
        })?;
        Ok(json!({
            "keys": keys.iter().map(|k| json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
                "kid": k.kid, "x": URL_SAFE_NO_PAD.encode(&k.public_key),
            })).collect::<Vec<_>>()
        }))
    }

    /// A new signing key that signs from now on; the previous one stays published (tokens it signed still
    /// verify), any older one is retired. Returns the new key id.
    pub fn rotate_key_blocking(&self) -> Result<String, ProviderError> {
        let now = self.clock.now_naive();
        self.store.write(|conn| {
            let kid = self.insert_key(conn, now)?;
            for old in oauth::live_signing_keys(conn)?.iter().skip(2) {
                oauth::retire_signing_key(conn, &old.kid, now)?;
            }
            Ok(kid)
        })
    }

    fn insert_key(&self, conn: &mut DbConnection, now: NaiveDateTime) -> Result<String, ProviderError> {
        use rand::TryRng as _;
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::rngs::SysRng
            .try_fill_bytes(seed.as_mut())
            .map_err(|_| ProviderError::Random)?;
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let kid = format!("k{}", URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..9]));
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
        let sealed = cipher.encrypt(
            &OrgId::new(KEY_SEAL_ORG),
            &format!("oauth_signing_key:{kid}"),
            seed.as_ref(),
        )?;
        oauth::insert_signing_key(
            conn,
            &SigningKeyRow {
                kid: kid.clone(),
                private_sealed: sealed,
                public_key: public.to_vec(),
                created_at: now,
                retired_at: None,
            },
        )?;
        tracing::info!(kid = %kid, "OpenID Provider signing key created");
        Ok(kid)
    }

    /// The newest key, unsealed (created on first use).
    fn signing_key(&self, conn: &mut DbConnection, now: NaiveDateTime) -> Result<Signer, ProviderError> {
        if oauth::live_signing_keys(conn)?.is_empty() {
            self.insert_key(conn, now)?;
        }
        let newest = oauth::live_signing_keys(conn)?
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Key("no signing key".into()))?;
        let cipher = SecretCipher::load(self.secret_key.as_ref(), conn, now)?;
        let seed = cipher.decrypt(
            &OrgId::new(KEY_SEAL_ORG),
            &format!("oauth_signing_key:{}", newest.kid),
            &newest.private_sealed,
        )?;
        if seed.len() != 32 {
            return Err(ProviderError::Key("a sealed key of the wrong length".into()));
        }
        let mut der = zeroize::Zeroizing::new(ED25519_PKCS8_PREFIX.to_vec());
        der.extend_from_slice(&seed);
        Ok(Signer {
            kid: newest.kid,
            encoding: jsonwebtoken::EncodingKey::from_ed_der(&der),
        })
    }
}

struct Signer {
    kid: String,
    encoding: jsonwebtoken::EncodingKey,
}

/// The client, if its secret matches.
fn authenticate(conn: &mut DbConnection, (id, secret): (&str, &str)) -> Result<OAuthClient, ProviderError> {
    match oauth::find_client(conn, id)? {
        Some(client) if secret_matches(&client.secret_hash, secret) => Ok(client),
        _ => Err(ProviderError::InvalidClient),
    }
}

/// The session and member behind a code or token, while both live: the session not revoked or expired, the
/// member of that org and active.
fn live_session(
    conn: &mut DbConnection,
    org: &OrgId,
    member_id: &str,
    session_id: &str,
    now: NaiveDateTime,
) -> Result<Option<(admin_sessions::AdminSessionRow, members::Member)>, ProviderError> {
    let Some(session) = admin_sessions::find(conn, &SessionId::new(session_id.to_owned()))? else {
        return Ok(None);
    };
    if session.revoked_at.is_some()
        || session.expires_at <= now
        || session.member_id != member_id
        || session.org_id != org.as_str()
    {
        return Ok(None);
    }
    match members::find(conn, org, &MemberId::new(member_id.to_owned()))? {
        Some(member) if member.active => Ok(Some((session, member))),
        _ => Ok(None),
    }
}

fn check_redirect_uri(uri: &str) -> Result<(), ProviderError> {
    let bad = || {
        ProviderError::InvalidRequest(format!(
            "redirect URI {uri:?} must be an absolute https URL (http only to loopback), without a fragment"
        ))
    };
    if uri.len() > MAX_REDIRECT_URI_LEN {
        return Err(bad());
    }
    let url = url::Url::parse(uri).map_err(|_| bad())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok || url.fragment().is_some() || url.host().is_none() {
        return Err(bad());
    }
    Ok(())
}

fn uuid_like() -> Result<String, ProviderError> {
    use rand::TryRng as _;
    let mut bytes = [0u8; 16];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| ProviderError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// When an ID token's `exp` passed, for callers that check one (tests, the platform example).
pub fn expiry(claims: &Value) -> Option<DateTime<Utc>> {
    claims["exp"]
        .as_i64()
        .and_then(|t| DateTime::from_timestamp(t, 0))
}
