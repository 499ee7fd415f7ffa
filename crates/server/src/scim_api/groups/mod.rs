//! `/Groups`: a handler per file (`create`, `get`, `replace`, `patch`, `delete`, `list`). Member rows are read
//! only when the response shows `members` (`excludedAttributes=members` never reads them).

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod patch;
pub mod replace;
