//! `/Users`: a handler per file (`create`, `get`, `replace`, `patch`, `delete`, `list`).

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod patch;
pub mod replace;
