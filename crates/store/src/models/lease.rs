//! The delivery lease both outbound workers share (webhooks' endpoints, `webhook_endpoints`; Shared Signals'
//! push streams, `ssf_streams`): a row with `next_attempt_at`, `leased_until`, `lease_owner`, `org_id`, leased
//! by one process at a time, at most `per_org` rows of one org at once across processes, so that one org's
//! slow receivers never hold every delivery slot; claims of every process take turns on PostgreSQL; and a
//! receiver failing for [`DISABLE_AFTER_DAYS`] is given up on.
//!
//! Each table keeps its own queries (its columns and its meaning of "due"); what is here is the part that is
//! the same: the turn-taking, the per-org ranking of the due rows, the share of the slots, and the give-up.

use crate::connection::DbConnection;
use crate::error::StoreError;
use chrono::NaiveDateTime;
use diesel::RunQueryDsl;
use diesel::sql_types::{Nullable, Text};
use std::collections::HashMap;

/// A receiver failing this long is disabled (retries go on until then: more than three days).
pub const DISABLE_AFTER_DAYS: i64 = 5;

/// Whether a receiver failing since `failing_since` is given up on at `now`.
pub fn gives_up(failing_since: NaiveDateTime, now: NaiveDateTime) -> bool {
    now - failing_since >= chrono::Duration::days(DISABLE_AFTER_DAYS)
}

/// The advisory lock of one leased table: its claims take turns (see [`take_turns`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leased {
    WebhookEndpoints,
    SsfStreams,
}

impl Leased {
    fn lock_key(self) -> i64 {
        match self {
            Leased::WebhookEndpoints => 7_262_431_001,
            Leased::SsfStreams => 7_262_431_028,
        }
    }
}

/// Makes the claims of every process on `table` take turns (PostgreSQL: a transaction-scoped advisory lock,
/// taken before the claim's first read, so each claim sees the leases of the one before it; SQLite has one
/// writer). Call it first in the claim's write unit of work.
pub fn take_turns(conn: &mut DbConnection, table: Leased) -> Result<(), StoreError> {
    if let DbConnection::Postgres(_) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({})", table.lock_key())).execute(conn)?;
    }
    Ok(())
}

/// A due row: its id and org (`None`: a row of every org).
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Due {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub org_id: Option<String>,
}

/// Each org's `per_org` most overdue rows of `candidates` (a SELECT of `id, org_id, next_attempt_at`), most
/// overdue first: at most `per_org` rows an org, whatever its backlog. `rank_param` is the bind of `per_org`
/// (`?` or `$n`).
pub fn per_org_sql(candidates: &str, rank_param: &str) -> String {
    format!(
        "SELECT id, org_id FROM (SELECT id, org_id, next_attempt_at, ROW_NUMBER() OVER \
         (PARTITION BY org_id ORDER BY next_attempt_at, id) AS rank FROM ({candidates}) AS candidates) AS due \
         WHERE rank <= {rank_param} ORDER BY next_attempt_at, id"
    )
}

/// Of `due` (most overdue first), the ids to lease: up to `limit`, and no more for one org (or the every-org
/// group) than `per_org` minus what `leased` (the orgs of the rows leased by live processes now) holds.
pub fn share(due: Vec<Due>, leased: Vec<Option<String>>, limit: i64, per_org: i64) -> Vec<String> {
    let mut in_flight: HashMap<Option<String>, i64> = HashMap::new();
    for org in leased {
        *in_flight.entry(org).or_default() += 1;
    }
    let mut ids = Vec::new();
    for row in due {
        if i64::try_from(ids.len()).unwrap_or(i64::MAX) >= limit {
            break;
        }
        let busy = in_flight.entry(row.org_id).or_default();
        if *busy < per_org {
            *busy += 1;
            ids.push(row.id);
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(id: &str, org: Option<&str>) -> Due {
        Due {
            id: id.into(),
            org_id: org.map(str::to_owned),
        }
    }

    #[test]
    fn an_org_gets_its_share_and_the_others_the_rest() {
        let rows = vec![
            due("a1", Some("a")),
            due("a2", Some("a")),
            due("a3", Some("a")),
            due("b1", Some("b")),
            due("all", None),
        ];
        assert_eq!(share(rows.clone(), vec![], 10, 2), ["a1", "a2", "b1", "all"]);
        // One of org A's rows is in flight elsewhere: it has one more slot.
        assert_eq!(
            share(rows.clone(), vec![Some("a".into())], 10, 2),
            ["a1", "b1", "all"]
        );
        assert_eq!(share(rows, vec![], 2, 2), ["a1", "a2"]);
    }

    #[test]
    fn a_receiver_is_given_up_on_after_the_days() {
        let now = chrono::DateTime::from_timestamp(10_000_000, 0)
            .unwrap()
            .naive_utc();
        assert!(!gives_up(
            now - chrono::Duration::days(DISABLE_AFTER_DAYS - 1),
            now
        ));
        assert!(gives_up(now - chrono::Duration::days(DISABLE_AFTER_DAYS), now));
    }
}
