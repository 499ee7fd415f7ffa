//! Command output: `--json` prints one JSON document (the scripting contract); otherwise human lines.

use crate::error::ServerError;
use serde::Serialize;

pub(crate) fn print_json(value: &impl Serialize) -> Result<(), ServerError> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// RFC 3339 in UTC, as every `--json` timestamp is written.
pub(crate) fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
