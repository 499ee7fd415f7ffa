//! Every column holding a value sealed under the secret key (`scimd_tokens::cipher`), read and replaced in
//! keyset pages, for `scimd keys rotate`: the Azure AD client secrets (`sso_connections.secret_ciphertext`),
//! the webhook signing secrets (`webhook_endpoints.secret_sealed`) and the OpenID Provider's private keys
//! (`oauth_signing_keys.private_sealed`), and the Shared Signals push receivers' authorization headers
//! (`ssf_streams.authorization_sealed`, a table of `scimd-ssf`'s own, so read here in SQL). A column sealed
//! anywhere else must be added here.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::{oauth_signing_keys, sso_connections, webhook_endpoints};
use diesel::prelude::*;

/// The sealed columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    SsoClientSecret,
    WebhookSecret,
    OAuthSigningKey,
    SsfAuthorizationHeader,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 4] = [
        SealedColumn::SsoClientSecret,
        SealedColumn::WebhookSecret,
        SealedColumn::OAuthSigningKey,
        SealedColumn::SsfAuthorizationHeader,
    ];

    /// What an operator reads in `scimd keys rotate`'s report.
    pub fn label(self) -> &'static str {
        match self {
            SealedColumn::SsoClientSecret => "SSO client secrets",
            SealedColumn::WebhookSecret => "webhook signing secrets",
            SealedColumn::OAuthSigningKey => "OpenID Provider signing keys",
            SealedColumn::SsfAuthorizationHeader => "Shared Signals push authorization headers",
        }
    }
}

/// One sealed value: the row's key, its org (none for the all-org webhook endpoints and the provider's keys)
/// and the sealed bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub key: String,
    pub org_id: Option<String>,
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedValue")
            .field("key", &self.key)
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

/// Up to `limit` values of `column` whose row key is after `after`, in key order.
pub fn page(
    conn: &mut DbConnection,
    column: SealedColumn,
    after: &str,
    limit: i64,
) -> Result<Vec<SealedValue>, StoreError> {
    let rows: Vec<(String, Option<String>, Option<Vec<u8>>)> = match column {
        SealedColumn::SsoClientSecret => sso_connections::table
            .filter(sso_connections::org_id.gt(after))
            .filter(sso_connections::secret_ciphertext.is_not_null())
            .order(sso_connections::org_id)
            .limit(limit)
            .select((
                sso_connections::org_id,
                sso_connections::org_id.nullable(),
                sso_connections::secret_ciphertext,
            ))
            .load(conn)?,
        SealedColumn::WebhookSecret => webhook_endpoints::table
            .filter(webhook_endpoints::id.gt(after))
            .order(webhook_endpoints::id)
            .limit(limit)
            .select((
                webhook_endpoints::id,
                webhook_endpoints::org_id,
                webhook_endpoints::secret_sealed.nullable(),
            ))
            .load(conn)?,
        SealedColumn::OAuthSigningKey => oauth_signing_keys::table
            .filter(oauth_signing_keys::kid.gt(after))
            .order(oauth_signing_keys::kid)
            .limit(limit)
            .select((oauth_signing_keys::kid, oauth_signing_keys::private_sealed))
            .load::<(String, Vec<u8>)>(conn)?
            .into_iter()
            .map(|(kid, sealed)| (kid, None, Some(sealed)))
            .collect(),
        SealedColumn::SsfAuthorizationHeader => {
            let sql = match conn {
                DbConnection::Sqlite(_) => {
                    "SELECT id, org_id, authorization_sealed FROM ssf_streams \
                     WHERE id > ? AND authorization_sealed IS NOT NULL ORDER BY id LIMIT ?"
                }
                DbConnection::Postgres(_) => {
                    "SELECT id, org_id, authorization_sealed FROM ssf_streams \
                     WHERE id > $1 AND authorization_sealed IS NOT NULL ORDER BY id LIMIT $2"
                }
            };
            diesel::sql_query(sql)
                .bind::<diesel::sql_types::Text, _>(after)
                .bind::<diesel::sql_types::BigInt, _>(limit)
                .load::<SsfRow>(conn)?
                .into_iter()
                .map(|r| (r.id, r.org_id, r.authorization_sealed))
                .collect()
        }
    };
    Ok(rows
        .into_iter()
        .filter_map(|(key, org_id, sealed)| {
            Some(SealedValue {
                key,
                org_id,
                sealed: sealed?,
            })
        })
        .collect())
}

#[derive(QueryableByName)]
struct SsfRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    org_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Binary>)]
    authorization_sealed: Option<Vec<u8>>,
}

/// Replaces the value of row `key` if it is still `old` (a value written meanwhile, sealed by a process under
/// its current key, is left alone); whether it was replaced.
pub fn replace(
    conn: &mut DbConnection,
    column: SealedColumn,
    key: &str,
    old: &[u8],
    new: &[u8],
) -> Result<bool, StoreError> {
    let updated = match column {
        SealedColumn::SsoClientSecret => diesel::update(
            sso_connections::table
                .filter(sso_connections::org_id.eq(key))
                .filter(sso_connections::secret_ciphertext.eq(old)),
        )
        .set(sso_connections::secret_ciphertext.eq(new))
        .execute(conn)?,
        SealedColumn::WebhookSecret => diesel::update(
            webhook_endpoints::table
                .filter(webhook_endpoints::id.eq(key))
                .filter(webhook_endpoints::secret_sealed.eq(old)),
        )
        .set(webhook_endpoints::secret_sealed.eq(new))
        .execute(conn)?,
        SealedColumn::OAuthSigningKey => diesel::update(
            oauth_signing_keys::table
                .filter(oauth_signing_keys::kid.eq(key))
                .filter(oauth_signing_keys::private_sealed.eq(old)),
        )
        .set(oauth_signing_keys::private_sealed.eq(new))
        .execute(conn)?,
        SealedColumn::SsfAuthorizationHeader => {
            let sql = match conn {
                DbConnection::Sqlite(_) => {
                    "UPDATE ssf_streams SET authorization_sealed = ? WHERE id = ? AND authorization_sealed = ?"
                }
                DbConnection::Postgres(_) => {
                    "UPDATE ssf_streams SET authorization_sealed = $1 WHERE id = $2 AND authorization_sealed = $3"
                }
            };
            diesel::sql_query(sql)
                .bind::<diesel::sql_types::Binary, _>(new)
                .bind::<diesel::sql_types::Text, _>(key)
                .bind::<diesel::sql_types::Binary, _>(old)
                .execute(conn)?
        }
    };
    Ok(updated > 0)
}
