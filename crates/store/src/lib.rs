//! The shared persistence crate: one diesel API over SQLite and PostgreSQL.
//!
//! - `store`: the pool and the `read` / `write` units of work (one transaction per write); `availability`:
//!   whether the database answers, for failing fast and saying so once;
//! - `connection`: the `DbConnection` over both backends and the URL that picks one;
//! - `schema` and `migrations`: the tables, defined once, with a migrations folder per backend;
//! - `models`: a file per table, row types and queries side by side;
//! - `provisioning`: the SCIM API's queries (filter-to-SQL, paging, Users, Groups, the deprovisioning path);
//! - `sql`: a fragment of SQL text with typed bind parameters (the filter translation's, and the models');
//! - `ids`, `user_name`, `clock`: the small types everything else uses.

pub mod availability;
pub mod clock;
pub mod connection;
pub mod error;
mod group_commit;
pub mod ids;
pub mod migrations;
pub mod models;
pub mod provisioning;
pub mod schema;
pub mod sql;
pub mod store;
pub mod user_name;

#[cfg(feature = "testing")]
pub mod testing;

pub use availability::Availability;
pub use clock::{Clock, FixedClock, SystemClock};
pub use connection::{Backend, DatabaseUrl, DbConnection};
pub use error::StoreError;
pub use ids::{GroupId, MemberId, OrgId, SessionId, TokenId};
pub use store::{Store, StoreOptions, UnitError, blocking};
