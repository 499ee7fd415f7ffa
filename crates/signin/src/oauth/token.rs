//! The token endpoint (the code redeemed by its client with the PKCE verifier: an ID token and an access
//! token), introspection (RFC 7662) and userinfo; all three stand on `live_session`, so a revoked session or a
//! deprovisioned member shows at once.

use super::keys::Signer;
use super::{OAuthProvider, ProviderError, digest, random, secret_matches};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use scimd_store::models::oauth::{self, OAuthAccessToken, OAuthClient, OAuthCode};
use scimd_store::models::{admin_sessions, attributes, groups, members};
use scimd_store::{DbConnection, MemberId, OrgId, SessionId};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
const ID_TOKEN_LIFETIME: Duration = Duration::hours(1);

/// The token endpoint's form (client credentials may also come by HTTP Basic).
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: String,
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
}

/// What one redemption read, for the ID token.
struct Redeemed {
    code: OAuthCode,
    session: admin_sessions::AdminSessionRow,
    member: members::Member,
    group_ids: Option<Vec<String>>,
    /// The member's effective roles, with the `roles` scope.
    roles: Option<Vec<String>>,
    /// Custom attributes the org maps to claims (`scimd attribute define --claim`).
    attribute_claims: serde_json::Map<String, Value>,
    key: Signer,
}

/// The member's effective roles (issue #26), for the `roles` claim.
fn roles_of(
    conn: &mut scimd_store::DbConnection,
    org: &OrgId,
    member: &members::Member,
) -> Result<Vec<String>, scimd_store::StoreError> {
    let ids = [member.id.clone()];
    Ok(scimd_store::provisioning::roles::effective_of(conn, org, &ids)?
        .remove(&member.id)
        .unwrap_or_else(|| scimd_store::provisioning::roles::compose(&member.role, [])))
}

fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

impl OAuthProvider {
    /// The token endpoint: `client` is (id, secret) from HTTP Basic or the form. One unit of work redeems the
    /// code ([`OAuthProvider::redeem`]); the ID token is built and signed after it commits, with the key of
    /// the client's registered algorithm. A code used a second time revokes the tokens issued from it
    /// (RFC 6749 §4.1.2) and is `invalid_grant`.
    pub fn token_blocking(&self, client: (&str, &str), form: &TokenRequest) -> Result<Value, ProviderError> {
        if form.grant_type != "authorization_code" {
            return Err(ProviderError::UnsupportedGrantType);
        }
        // Outside the unit of work: a missing key is generated here, not while the writer is held.
        self.ensure_keys_blocking()?;
        let now = self.clock.now();
        let now_naive = self.clock.now_naive();
        let access_token = random("scimd_at_")?;
        let redeemed = self
            .store
            .write(|conn| self.redeem(conn, client, form, &access_token, now_naive))?;
        let Some(redeemed) = redeemed else {
            tracing::info!(client_id = %client.0, "OAuth code replayed: the tokens issued from it are revoked");
            return Err(ProviderError::InvalidGrant);
        };
        let session_ends = redeemed.session.expires_at;
        let exp = (now + ID_TOKEN_LIFETIME).min(session_ends.and_utc());
        let mut claims = self.id_token_claims(&redeemed, now, exp);
        claims["at_hash"] = json!(at_hash(redeemed.key.algorithm, &access_token));
        let mut header = jsonwebtoken::Header::new(redeemed.key.algorithm);
        header.kid = Some(redeemed.key.kid.clone());
        let id_token = jsonwebtoken::encode(&header, &claims, &redeemed.key.encoding)
            .map_err(|e| ProviderError::Key(e.to_string()))?;
        let expires_in =
            (exp.min((now_naive + ACCESS_TOKEN_LIFETIME).min(session_ends).and_utc()) - now).num_seconds();
        Ok(json!({
            "token_type": "Bearer",
            "access_token": access_token,
            "expires_in": expires_in.max(0),
            "id_token": id_token,
            "scope": redeemed.code.scope,
        }))
    }

    /// The token endpoint's unit of work: the client authenticated, the code consumed (single use), its
    /// client, redirect URI and PKCE challenge checked, its session still live; then the access token's hash
    /// stored and the signing key loaded. Any refusal is `invalid_grant` and rolls the consumption back. A code
    /// this client used before is `None`: the tokens issued from it are deleted, and that commits.
    fn redeem(
        &self,
        conn: &mut DbConnection,
        client: (&str, &str),
        form: &TokenRequest,
        access_token: &str,
        now: NaiveDateTime,
    ) -> Result<Option<Redeemed>, ProviderError> {
        let client_row = authenticate(conn, client)?;
        let code_hash = digest(&form.code);
        let Some(code) = oauth::consume_code(conn, &code_hash, now)? else {
            if oauth::revoke_replayed_code(conn, &code_hash, &client_row.id)? > 0 {
                return Ok(None);
            }
            return Err(ProviderError::InvalidGrant);
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
        if code.client_id != client_row.id
            || code.redirect_uri != form.redirect_uri
            || challenge != code.code_challenge
        {
            return Err(ProviderError::InvalidGrant);
        }
        let org = OrgId::new(code.org_id.clone());
        let Some((session, member)) = live_session(conn, &org, &code.member_id, &code.session_id, now)?
        else {
            return Err(ProviderError::InvalidGrant);
        };
        let group_ids = if has_scope(&code.scope, "groups") {
            Some(groups::ids_of_member(conn, &org, &member.member_id())?)
        } else {
            None
        };
        let roles = if has_scope(&code.scope, "roles") {
            Some(roles_of(conn, &org, &member)?)
        } else {
            None
        };
        oauth::insert_access_token(
            conn,
            &OAuthAccessToken {
                token_hash: digest(access_token),
                client_id: client_row.id.clone(),
                org_id: code.org_id.clone(),
                member_id: code.member_id.clone(),
                session_id: code.session_id.clone(),
                scope: code.scope.clone(),
                created_at: now,
                expires_at: (now + ACCESS_TOKEN_LIFETIME).min(session.expires_at),
                code_hash: Some(code_hash),
            },
        )?;
        let key = self.signing_key(conn, &client_row.id_token_signed_response_alg, now)?;
        let attribute_claims = attributes::claims_of(conn, &org, &member.document)?;
        Ok(Some(Redeemed {
            code,
            session,
            member,
            group_ids,
            roles,
            attribute_claims,
            key,
        }))
    }

    /// The ID token's claims: who (`sub`, `org_id`, `email`, `name`, `groups` and `roles` when asked, custom
    /// attributes the org maps to claims, never over these), for whom (`aud`),
    /// from which session (`sid`, `auth_time`: when the member signed in), until `exp`. `email` is whatever the
    /// org's SCIM caller wrote, so `email_verified` is false (review 3, M-2): `(iss, sub)` is the account key.
    fn id_token_claims(&self, r: &Redeemed, now: DateTime<Utc>, exp: DateTime<Utc>) -> Value {
        let mut claims = json!({
            "iss": self.issuer,
            "sub": r.code.member_id,
            "aud": r.code.client_id,
            "exp": exp.timestamp(),
            "iat": now.timestamp(),
            "auth_time": r.session.created_at.and_utc().timestamp(),
            "sid": r.code.session_id,
            "org_id": r.code.org_id,
            "email": r.member.email.clone().unwrap_or_else(|| r.member.user_name.clone()),
            "email_verified": false,
            "name": r.member.display_name.clone().unwrap_or_else(|| r.member.user_name.clone()),
        });
        if let Some(nonce) = &r.code.nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(ids) = &r.group_ids {
            claims["groups"] = json!(ids);
        }
        if let Some(roles) = &r.roles {
            claims["roles"] = json!(roles);
        }
        if let Some(o) = claims.as_object_mut() {
            for (k, v) in &r.attribute_claims {
                o.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        claims
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
            // A revoked client's tokens are deleted with it; the check stands in case one is revoked by hand.
            if row.expires_at <= now || oauth::find_client(conn, &row.client_id)?.is_none() {
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
                "email_verified": false,
                "name": member.display_name.clone().unwrap_or_else(|| member.user_name.clone()),
            });
            if has_scope(&row.scope, "groups") {
                info["groups"] = json!(groups::ids_of_member(conn, &org, &member.member_id())?);
            }
            if has_scope(&row.scope, "roles") {
                info["roles"] = json!(roles_of(conn, &org, &member)?);
            }
            if let Some(o) = info.as_object_mut() {
                for (k, v) in attributes::claims_of(conn, &org, &member.document)? {
                    o.entry(k).or_insert(v);
                }
            }
            Ok(info)
        })
    }
}

/// OIDC Core §3.3.2.11: the left half of the access token's hash, with the hash of the ID token's algorithm
/// (SHA-256 for RS256; SHA-512 for EdDSA over Ed25519).
fn at_hash(algorithm: jsonwebtoken::Algorithm, access_token: &str) -> String {
    let digest = match algorithm {
        jsonwebtoken::Algorithm::EdDSA => Sha512::digest(access_token.as_bytes()).to_vec(),
        _ => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
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
