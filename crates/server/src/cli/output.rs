//! Command output: `--json` prints one JSON document (the scripting contract); otherwise human lines.

use crate::error::ServerError;
use serde::Serialize;
use std::io::Write;

/// `println!` for command output, inside a function that returns `Result<_, ServerError>`: a reader that went
/// away (`scimd org list | head -1`) is `ServerError::StdoutClosed`, which `cli::main` ends quietly, where
/// `println!` would panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::line(format_args!($($arg)*))?
    };
}
pub(crate) use outln;

/// One line of output (see [`outln`]).
pub(crate) fn line(args: std::fmt::Arguments<'_>) -> Result<(), ServerError> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => ServerError::StdoutClosed,
            _ => ServerError::Io(e),
        })
}

pub(crate) fn print_json(value: &impl Serialize) -> Result<(), ServerError> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// RFC 3339 in UTC to the second, as every timestamp of the commands' output is written.
pub(crate) fn rfc3339(t: chrono::NaiveDateTime) -> String {
    time(t.and_utc())
}

/// [`rfc3339`] of a `DateTime<Utc>`.
pub(crate) fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
