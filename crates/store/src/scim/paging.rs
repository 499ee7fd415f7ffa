//! Paging of SCIM lists: index paging (`startIndex`, `count`) and RFC 9865 cursors.
//!
//! Results are always in a total order (the `sortBy` key, then `seq`), so that pages neither repeat nor skip
//! rows while nothing changes. A cursor is opaque to the client: `k<seq>` (keyset: the rows after that `seq`,
//! used with the default order, so deep pages cost no more than the first) or `o<offset>` (with `sortBy`),
//! followed by a fingerprint of the query it belongs to, so that a cursor replayed with another filter or
//! sort is `invalidCursor` rather than a silently wrong page.

use scimd_scim::ScimError;

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

/// Finishes a page loaded with one row more than `count` (to learn whether more follow): drops that row and
/// returns the exact total and where the next page starts. `count_all` runs only when the page cannot tell
/// the total by itself (a first page that holds everything can).
pub(crate) fn finish<R, E>(
    rows: &mut Vec<R>,
    count: u64,
    position: Position,
    sorted: bool,
    seq_of: impl Fn(&R) -> i64,
    count_all: impl FnOnce() -> Result<i64, E>,
) -> Result<(u64, Option<Position>), E> {
    let more = rows.len() as u64 > count;
    rows.truncate(usize::try_from(count).unwrap_or(usize::MAX));
    let total = match position {
        Position::Offset(0) if !more && count > 0 => rows.len() as u64,
        _ => u64::try_from(count_all()?).unwrap_or(0),
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
