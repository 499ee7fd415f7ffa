//! Small plumbing shared by the services: time.

use chrono::{DateTime, NaiveDateTime, Utc};

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}
