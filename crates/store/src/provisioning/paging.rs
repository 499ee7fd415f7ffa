//! Paging of SCIM lists: index paging (`startIndex`, `count`) and RFC 9865 cursors.
//!
//! Results are always in a total order (the `sortBy` key, then `seq`), so that pages neither repeat nor skip
//! rows while nothing changes. A cursor is opaque to the client: `k<seq>` (keyset: the rows after that `seq`,
//! used with the default order, so deep pages cost no more than the first) or `o<offset>` (with `sortBy`),
//! followed by a fingerprint of the query it belongs to, so that a cursor replayed with another filter or
//! sort is `invalidCursor` rather than a silently wrong page.

use super::{ListSpec, Page, ScimStoreError};
use crate::connection::DbConnection;
use crate::error::StoreError;
use scimd_scim::ScimError;
use std::collections::HashMap;

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Skip this many rows of the ordered result.
    Offset(u64),
    /// The rows after this `seq` (default order only).
    AfterSeq(i64),
}

/// How the client pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// `startIndex` (1-based, already clamped to at least 1).
    Index { start_index: u64 },
    /// RFC 9865: `cursor` given (empty: the first page). `fingerprint` identifies the query.
    Cursor { position: Position, fingerprint: String },
}

impl Paging {
    /// From the request: `cursor` (if given) with the query's fingerprint, else `startIndex`.
    pub fn from_request(
        start_index: u64,
        cursor: Option<&str>,
        fingerprint: String,
    ) -> Result<Paging, ScimError> {
        match cursor {
            None => Ok(Paging::Index {
                start_index: start_index.max(1),
            }),
            Some("") => Ok(Paging::Cursor {
                position: Position::Offset(0),
                fingerprint,
            }),
            Some(c) => Ok(Paging::Cursor {
                position: decode(c, &fingerprint)?,
                fingerprint,
            }),
        }
    }

    pub fn position(&self) -> Position {
        match self {
            Paging::Index { start_index } => Position::Offset(start_index.saturating_sub(1)),
            Paging::Cursor { position, .. } => *position,
        }
    }
}

/// Where the page of a list starts: a keyset cursor only means something in the default order.
pub(crate) fn start(paging: &Paging, sorted: bool) -> Result<Position, ScimError> {
    match (paging.position(), sorted) {
        (Position::AfterSeq(_), true) => Err(ScimError::invalid_cursor(
            "The cursor does not belong to this sort order.",
        )),
        (position, _) => Ok(position),
    }
}

/// A list's table as the paging shape needs it: each resource says how to read its rows in the list's order
/// (filter and sort applied), and [`page`] decides which of them make the page.
pub(crate) trait ListSource {
    type Row;
    /// Whether the list has a `sortBy` key (keyset cursors only work in the default order).
    fn sorted(&self) -> bool;
    fn seq(row: &Self::Row) -> i64;
    /// Up to `limit` rows in the list's order; only those after `after_seq` when given (default order).
    fn rows(
        &self,
        conn: &mut DbConnection,
        after_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Self::Row>, StoreError>;
    /// The `seq` of up to `limit` rows from `offset` in the list's order: walks the index, not the rows.
    fn seqs(&self, conn: &mut DbConnection, offset: i64, limit: i64) -> Result<Vec<i64>, StoreError>;
    /// The rows with these `seq`s, in any order.
    fn by_seqs(&self, conn: &mut DbConnection, seqs: &[i64]) -> Result<Vec<Self::Row>, StoreError>;
    /// How many rows the whole list holds.
    fn total(&self, conn: &mut DbConnection) -> Result<u64, StoreError>;
}

/// One page of a list, the same shape for every resource: the first page and keyset pages read their rows
/// directly; a deep offset page walks the index for its keys, then reads just those rows.
pub(crate) fn page<S: ListSource>(
    conn: &mut DbConnection,
    source: &S,
    spec: &ListSpec<'_>,
) -> Result<Page<S::Row>, ScimStoreError> {
    let sorted = source.sorted();
    let position = start(&spec.paging, sorted)?;
    let limit = i64_of(spec.count.saturating_add(1));
    let mut rows = if spec.count == 0 {
        Vec::new()
    } else {
        match position {
            Position::Offset(0) => source.rows(conn, None, limit)?,
            Position::AfterSeq(after) => source.rows(conn, Some(after), limit)?,
            Position::Offset(offset) => {
                let seqs = source.seqs(conn, i64_of(offset), limit)?;
                let mut rows = source.by_seqs(conn, &seqs)?;
                let rank: HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
                rows.sort_by_key(|r| rank.get(&S::seq(r)).copied().unwrap_or(usize::MAX));
                rows
            }
        }
    };
    let (total, next) = finish(&mut rows, spec.count, position, sorted, S::seq, || {
        source.total(conn)
    })?;
    Ok(Page {
        total,
        items: rows,
        next,
    })
}

/// A count or offset as SQL wants it.
pub(crate) fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Orders a boxed query of a table with a `seq` column: by the `sortBy` key with unassigned values last in
/// either direction, then by `seq` (a total order). Without a key it orders by the list's page key (`seq` as
/// the paging index orders it, see `page_key`), or by `seq + ?` when the filter pins its rows by a key
/// (`by_key`), an order no index gives, so that the planner looks the rows up by that key.
macro_rules! ordered {
    ($query:expr, $sort:expr, $descending:expr, $seq:expr, $page_key:expr, $by_key:expr) => {{
        use diesel::sql_types::{Bool, Text};
        match $sort {
            Some(key) => {
                let nulls = key.clone().parens().push(" IS NULL").expr::<Bool>();
                let key = key.clone().expr::<Text>();
                let q = $query.order_by(nulls.asc());
                let q = if $descending {
                    q.then_order_by(key.desc())
                } else {
                    q.then_order_by(key.asc())
                };
                q.then_order_by($seq.asc())
            }
            None if $by_key => $query.order_by(($seq + 0_i64).asc()),
            None => $query.order_by($page_key.asc()),
        }
    }};
}
pub(crate) use ordered;

/// The reads of a [`ListSource`] that only differ by table, for a list type with `filtered()`, `page_key()`,
/// `sort`, `descending` and `by_key` over a table with `org_id` and `seq` columns: its rows in the list's
/// order, their `seq`s from an offset, and the rows of given `seq`s.
macro_rules! table_reads {
    ($table:ident, $row:ty) => {
        fn sorted(&self) -> bool {
            self.sort.is_some()
        }

        fn seq(row: &$row) -> i64 {
            row.seq
        }

        fn rows(
            &self,
            conn: &mut DbConnection,
            after_seq: Option<i64>,
            limit: i64,
        ) -> Result<Vec<$row>, StoreError> {
            let q = match after_seq {
                Some(after) => self.filtered().filter(self.page_key().gt(after)),
                None => self.filtered(),
            };
            Ok($crate::provisioning::paging::ordered!(
                q,
                &self.sort,
                self.descending,
                $table::seq,
                self.page_key(),
                self.by_key
            )
            .select(<$row>::as_select())
            .limit(limit)
            .load(conn)?)
        }

        fn seqs(&self, conn: &mut DbConnection, offset: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
            Ok($crate::provisioning::paging::ordered!(
                self.filtered(),
                &self.sort,
                self.descending,
                $table::seq,
                self.page_key(),
                self.by_key
            )
            .select($table::seq)
            .limit(limit)
            .offset(offset)
            .load(conn)?)
        }

        fn by_seqs(&self, conn: &mut DbConnection, seqs: &[i64]) -> Result<Vec<$row>, StoreError> {
            Ok($table::table
                .filter($table::org_id.eq(self.org.as_str()))
                .filter($table::seq.eq_any(seqs))
                .select(<$row>::as_select())
                .load(conn)?)
        }
    };
}
pub(crate) use table_reads;

/// Finishes a page loaded with one row more than `count` (to learn whether more follow): drops that row and
/// returns the exact total and where the next page starts. `count_all` runs only when the page cannot tell
/// the total by itself (a first page that holds everything can).
fn finish<R, E>(
    rows: &mut Vec<R>,
    count: u64,
    position: Position,
    sorted: bool,
    seq_of: impl Fn(&R) -> i64,
    count_all: impl FnOnce() -> Result<u64, E>,
) -> Result<(u64, Option<Position>), E> {
    let more = rows.len() as u64 > count;
    rows.truncate(usize::try_from(count).unwrap_or(usize::MAX));
    let total = match position {
        Position::Offset(0) if !more && count > 0 => rows.len() as u64,
        _ => count_all()?,
    };
    let next = match (more, position, rows.last()) {
        (true, Position::Offset(o), _) if sorted => Some(Position::Offset(o + count)),
        (true, _, Some(last)) if !sorted => Some(Position::AfterSeq(seq_of(last))),
        _ => None,
    };
    Ok((total, next))
}

/// A cursor for `position` in the query with `fingerprint`.
pub fn encode(position: Position, fingerprint: &str) -> String {
    match position {
        Position::Offset(o) => format!("o{o}.{fingerprint}"),
        Position::AfterSeq(s) => format!("k{s}.{fingerprint}"),
    }
}

fn decode(cursor: &str, fingerprint: &str) -> Result<Position, ScimError> {
    let invalid =
        || ScimError::invalid_cursor("The cursor is not one this service provider issued for this query.");
    let (head, fp) = cursor.split_once('.').ok_or_else(invalid)?;
    if fp != fingerprint {
        return Err(invalid());
    }
    let (kind, n) = head.split_at_checked(1).ok_or_else(invalid)?;
    match kind {
        "o" => n.parse().map(Position::Offset).map_err(|_| invalid()),
        "k" => n.parse().map(Position::AfterSeq).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// A stable fingerprint (FNV-1a, 64 bits, hex) of a query's text: filter, sort and page size.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_query() {
        let fp = fingerprint(&["userName sw \"a\"", ""]);
        let c = encode(Position::AfterSeq(42), &fp);
        let p = Paging::from_request(1, Some(&c), fp.clone()).unwrap();
        assert_eq!(p.position(), Position::AfterSeq(42));
        let other = fingerprint(&["userName sw \"b\"", ""]);
        let e = Paging::from_request(1, Some(&c), other).unwrap_err();
        assert_eq!(e.scim_type, Some(scimd_scim::ScimType::InvalidCursor));
        assert!(Paging::from_request(1, Some("garbage"), fp.clone()).is_err());
        assert_eq!(
            Paging::from_request(1, Some(""), fp).unwrap().position(),
            Position::Offset(0)
        );
        assert_eq!(
            Paging::from_request(3, None, String::new()).unwrap().position(),
            Position::Offset(2)
        );
    }
}
