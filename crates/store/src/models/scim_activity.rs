//! `scim_activity`: one row per SCIM request, so that an admin sees when provisioning started failing and why.
//! Rows are written in batches by the server's recorder (never one commit per request) and kept 30 days.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ids::OrgId;
use crate::schema::scim_activity;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// How long activity is kept.
pub const RETENTION_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = scim_activity)]
pub struct Activity {
    pub seq: i64,
    pub org_id: String,
    pub occurred_at: NaiveDateTime,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub duration_us: i64,
    pub scim_type: Option<String>,
    /// JSON array of the labels of the IdP dialect rules that fired.
    pub dialects: String,
    /// scimd's `detail` of a refused or failed request, as the IdP was told it.
    pub detail: Option<String>,
}

impl Activity {
    pub fn outcome(&self) -> Outcome {
        Outcome::of_status(self.status)
    }

    pub fn dialect_labels(&self) -> Vec<String> {
        serde_json::from_str(&self.dialects).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = scim_activity)]
pub struct NewActivity {
    pub org_id: String,
    pub occurred_at: NaiveDateTime,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub duration_us: i64,
    pub scim_type: Option<String>,
    pub dialects: String,
    pub detail: Option<String>,
}

/// What a request's status says about it, for filtering and the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 1xx-3xx.
    Success,
    /// 4xx: the IdP sent something we refused (its admin can usually fix it).
    ClientError,
    /// 5xx: our fault, or the safety valve holding deprovisioning.
    ServerError,
}

impl Outcome {
    pub fn of_status(status: i32) -> Outcome {
        match status {
            500.. => Outcome::ServerError,
            400..=499 => Outcome::ClientError,
            _ => Outcome::Success,
        }
    }

    pub fn parse(raw: &str) -> Option<Outcome> {
        match raw {
            "success" => Some(Outcome::Success),
            "client_error" => Some(Outcome::ClientError),
            "server_error" => Some(Outcome::ServerError),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::ClientError => "client_error",
            Outcome::ServerError => "server_error",
        }
    }

    fn status_range(self) -> (i32, i32) {
        match self {
            Outcome::Success => (0, 399),
            Outcome::ClientError => (400, 499),
            Outcome::ServerError => (500, 999),
        }
    }
}

/// Inserts a batch in one statement (the caller's transaction).
pub fn insert_batch(conn: &mut DbConnection, rows: &[NewActivity]) -> Result<usize, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    // diesel's MultiConnection cannot batch inserts; each backend can, as one multi-row statement.
    let inserted = match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(scim_activity::table)
            .values(rows)
            .execute(c)?,
        DbConnection::Postgres(c) => diesel::insert_into(scim_activity::table)
            .values(rows)
            .execute(c)?,
    };
    Ok(inserted)
}

/// A page of the org's activity, newest first, optionally of one outcome, strictly older than `before_seq`.
pub fn list(
    conn: &mut DbConnection,
    org: &OrgId,
    outcome: Option<Outcome>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<Activity>, StoreError> {
    let mut query = scim_activity::table
        .filter(scim_activity::org_id.eq(org.as_str()))
        .select(Activity::as_select())
        .order(scim_activity::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(outcome) = outcome {
        let (low, high) = outcome.status_range();
        query = query.filter(scim_activity::status.between(low, high));
    }
    if let Some(before) = before_seq {
        query = query.filter(scim_activity::seq.lt(before));
    }
    Ok(query.load(conn)?)
}

/// Requests per hour by outcome since `since` (inclusive), oldest hour first; hours without requests are absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, QueryableByName)]
pub struct HourBucket {
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub hour: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub success: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub client_error: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub server_error: i64,
}

/// Grouped in the database through the (org_id, occurred_at) index; only the hour truncation differs by backend.
pub fn hourly(
    conn: &mut DbConnection,
    org: &OrgId,
    since: NaiveDateTime,
) -> Result<Vec<HourBucket>, StoreError> {
    let hour = match conn {
        DbConnection::Sqlite(_) => "strftime('%Y-%m-%d %H:00:00', occurred_at)",
        DbConnection::Postgres(_) => "date_trunc('hour', occurred_at)",
    };
    let sql = format!(
        "SELECT {hour} AS hour, \
         CAST(SUM(CASE WHEN status < 400 THEN 1 ELSE 0 END) AS BIGINT) AS success, \
         CAST(SUM(CASE WHEN status BETWEEN 400 AND 499 THEN 1 ELSE 0 END) AS BIGINT) AS client_error, \
         CAST(SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS BIGINT) AS server_error \
         FROM scim_activity WHERE org_id = $1 AND occurred_at >= $2 GROUP BY 1 ORDER BY 1"
    );
    let sql = match conn {
        DbConnection::Sqlite(_) => sql.replace("$1", "?").replace("$2", "?"),
        DbConnection::Postgres(_) => sql,
    };
    Ok(diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(org.as_str())
        .bind::<diesel::sql_types::Timestamp, _>(since)
        .load(conn)?)
}

/// Deletes every org's activity older than the retention period; returns how many rows went.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
    let cutoff = now - chrono::Duration::days(RETENTION_DAYS);
    Ok(diesel::delete(scim_activity::table.filter(scim_activity::occurred_at.lt(cutoff))).execute(conn)?)
}
