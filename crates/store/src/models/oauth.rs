//! `oauth_clients`, `oauth_codes`, `oauth_access_tokens`, `oauth_signing_keys`: scimd as an OpenID Provider
//! for the platform. Secrets (client secrets, codes, access tokens) are stored as SHA-256 hashes only; a
//! code is consumed in the statement that checks it was unused and unexpired, so it works exactly once.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::{oauth_access_tokens, oauth_clients, oauth_codes, oauth_signing_keys};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_clients)]
pub struct OAuthClient {
    pub id: String,
    pub name: String,
    pub secret_hash: Vec<u8>,
    /// A JSON array of the exact redirect URIs.
    pub redirect_uris: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// `RS256` or `EdDSA`: how this client's ID tokens are signed.
    pub id_token_signed_response_alg: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_codes)]
pub struct OAuthCode {
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub org_id: String,
    pub member_id: String,
    pub session_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_access_tokens)]
pub struct OAuthAccessToken {
    pub token_hash: Vec<u8>,
    pub client_id: String,
    pub org_id: String,
    pub member_id: String,
    pub session_id: String,
    pub scope: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// The code it was issued from (its SHA-256): a replay of that code revokes it.
    pub code_hash: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_sealed: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
    /// `EdDSA` (`public_key` the 32 raw bytes) or `RS256` (`public_key` the PKCS#1 DER).
    pub alg: String,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

pub fn insert_client(conn: &mut DbConnection, row: &OAuthClient) -> Result<(), StoreError> {
    diesel::insert_into(oauth_clients::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A client that is not revoked.
pub fn find_client(conn: &mut DbConnection, id: &str) -> Result<Option<OAuthClient>, StoreError> {
    Ok(oauth_clients::table
        .find(id)
        .filter(oauth_clients::revoked_at.is_null())
        .select(OAuthClient::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_clients(conn: &mut DbConnection) -> Result<Vec<OAuthClient>, StoreError> {
    Ok(oauth_clients::table
        .order(oauth_clients::created_at.asc())
        .select(OAuthClient::as_select())
        .load(conn)?)
}

/// Revokes a client: it authenticates no more, and the access tokens issued to it are deleted. False when
/// there is no such client or it was revoked already.
pub fn revoke_client(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    let revoked = diesel::update(
        oauth_clients::table
            .find(id)
            .filter(oauth_clients::revoked_at.is_null()),
    )
    .set(oauth_clients::revoked_at.eq(now))
    .execute(conn)?;
    diesel::delete(oauth_access_tokens::table.filter(oauth_access_tokens::client_id.eq(id))).execute(conn)?;
    Ok(revoked > 0)
}

/// Replaces a live client's secret hash (the old secret stops working at once). False when there is no such
/// live client.
pub fn set_client_secret(conn: &mut DbConnection, id: &str, secret_hash: &[u8]) -> Result<bool, StoreError> {
    Ok(diesel::update(
        oauth_clients::table
            .find(id)
            .filter(oauth_clients::revoked_at.is_null()),
    )
    .set(oauth_clients::secret_hash.eq(secret_hash))
    .execute(conn)?
        > 0)
}

pub fn insert_code(conn: &mut DbConnection, row: &OAuthCode) -> Result<(), StoreError> {
    diesel::insert_into(oauth_codes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Uses the code if it is unused and unexpired; returns it when this call consumed it.
pub fn consume_code(
    conn: &mut DbConnection,
    code_hash: &[u8],
    now: NaiveDateTime,
) -> Result<Option<OAuthCode>, StoreError> {
    let consumed = diesel::update(
        oauth_codes::table
            .filter(oauth_codes::code_hash.eq(code_hash))
            .filter(oauth_codes::used_at.is_null())
            .filter(oauth_codes::expires_at.gt(now)),
    )
    .set(oauth_codes::used_at.eq(now))
    .execute(conn)?;
    if consumed == 0 {
        return Ok(None);
    }
    Ok(oauth_codes::table
        .find(code_hash)
        .select(OAuthCode::as_select())
        .first(conn)
        .optional()?)
}

/// A second use of `code_hash` by `client_id` (the code exists, was used, and is that client's): deletes the
/// access tokens issued from it (RFC 6749 §4.1.2) and returns how many. Zero for a code never issued.
pub fn revoke_replayed_code(
    conn: &mut DbConnection,
    code_hash: &[u8],
    client_id: &str,
) -> Result<usize, StoreError> {
    let used: Option<String> = oauth_codes::table
        .find(code_hash)
        .filter(oauth_codes::used_at.is_not_null())
        .select(oauth_codes::client_id)
        .first(conn)
        .optional()?;
    if used.as_deref() != Some(client_id) {
        return Ok(0);
    }
    Ok(
        diesel::delete(oauth_access_tokens::table.filter(oauth_access_tokens::code_hash.eq(code_hash)))
            .execute(conn)?,
    )
}

pub fn insert_access_token(conn: &mut DbConnection, row: &OAuthAccessToken) -> Result<(), StoreError> {
    diesel::insert_into(oauth_access_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_access_token(
    conn: &mut DbConnection,
    token_hash: &[u8],
) -> Result<Option<OAuthAccessToken>, StoreError> {
    Ok(oauth_access_tokens::table
        .find(token_hash)
        .select(OAuthAccessToken::as_select())
        .first(conn)
        .optional()?)
}

/// Deletes codes and access tokens past their time, at most `limit` of each (the retention task).
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<usize, StoreError> {
    let codes: Vec<Vec<u8>> = oauth_codes::table
        .filter(oauth_codes::expires_at.le(now))
        .select(oauth_codes::code_hash)
        .limit(limit)
        .load(conn)?;
    let mut gone =
        diesel::delete(oauth_codes::table.filter(oauth_codes::code_hash.eq_any(&codes))).execute(conn)?;
    let tokens: Vec<Vec<u8>> = oauth_access_tokens::table
        .filter(oauth_access_tokens::expires_at.le(now))
        .select(oauth_access_tokens::token_hash)
        .limit(limit)
        .load(conn)?;
    gone +=
        diesel::delete(oauth_access_tokens::table.filter(oauth_access_tokens::token_hash.eq_any(&tokens)))
            .execute(conn)?;
    Ok(gone)
}

pub fn insert_signing_key(conn: &mut DbConnection, row: &SigningKeyRow) -> Result<(), StoreError> {
    diesel::insert_into(oauth_signing_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The keys not retired, newest first: the first signs, all are published.
pub fn live_signing_keys(conn: &mut DbConnection) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(oauth_signing_keys::table
        .filter(oauth_signing_keys::retired_at.is_null())
        .order((
            oauth_signing_keys::created_at.desc(),
            oauth_signing_keys::kid.desc(),
        ))
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// Retires every live key but `keep`: they sign nothing more and leave the JWKS. Returns how many.
pub fn retire_signing_keys_except(
    conn: &mut DbConnection,
    keep: &[String],
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        oauth_signing_keys::table
            .filter(oauth_signing_keys::kid.ne_all(keep))
            .filter(oauth_signing_keys::retired_at.is_null()),
    )
    .set(oauth_signing_keys::retired_at.eq(now))
    .execute(conn)?)
}

/// Retires a key: it signs nothing more and leaves the JWKS.
pub fn retire_signing_key(
    conn: &mut DbConnection,
    kid: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        oauth_signing_keys::table
            .filter(oauth_signing_keys::kid.eq(kid))
            .filter(oauth_signing_keys::retired_at.is_null()),
    )
    .set(oauth_signing_keys::retired_at.eq(now))
    .execute(conn)?
        > 0)
}
