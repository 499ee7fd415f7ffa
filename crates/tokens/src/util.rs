//! Small plumbing shared by the services: time.

use chrono::{DateTime, NaiveDateTime, Utc};

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// serde's `serialize_with` for a time shown to a person or a script: RFC 3339 in UTC to the second (the
/// database keeps microseconds, which no reader wants).
pub(crate) fn secs<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// [`secs`] for an optional time (`null` when absent).
pub(crate) fn opt_secs<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => secs(t, s),
        None => s.serialize_none(),
    }
}
