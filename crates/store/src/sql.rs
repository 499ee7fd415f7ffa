//! [`Sql`]: a fragment of SQL text with typed bind parameters, and [`Raw`], the diesel expression that puts
//! one into a query; [`Statement`], a whole statement of fixed text and values that stays prepared. The
//! filter translation builds these; every value that came from a request is a bind parameter, never text.

use crate::connection::MultiBackend;
use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::connection::Connection;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, TypedExpressionType, ValidGrouping,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::sql_types::{Array, Bool, SqlType, Text, Timestamp, Untyped};
use diesel::sqlite::Sqlite;
use std::marker::PhantomData;

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Bool(bool),
    Time(NaiveDateTime),
    BigInt(i64),
    Double(f64),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Bind(Bind),
}

/// SQL text interleaved with bind parameters, and whether a statement holding it may be kept prepared.
///
/// diesel keeps a statement prepared per connection, keyed by its SQL text, unless a part of it says
/// otherwise; its own `sql()` literals always do, which is why fixed text goes through [`Sql::text`] here. A
/// fragment whose text a request shapes (a SCIM filter with several comparisons) is marked [`Sql::uncached`]:
/// the shapes a caller can send are unbounded, and each would stay in every connection's cache for good.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    parts: Vec<Part>,
    cached: bool,
}

impl Default for Sql {
    fn default() -> Sql {
        Sql {
            parts: Vec::new(),
            cached: true,
        }
    }
}

impl Sql {
    /// A fragment of fixed SQL text (never text from a request).
    pub fn text(s: &str) -> Sql {
        Sql {
            parts: vec![Part::Text(s.to_owned())],
            cached: true,
        }
    }

    /// This fragment, in a statement that is prepared for each run and never kept (see [`Sql`]).
    pub fn uncached(mut self) -> Sql {
        self.cached = false;
        self
    }

    /// Whether a statement holding this fragment may be kept prepared.
    pub fn is_cached(&self) -> bool {
        self.cached
    }

    pub fn push(mut self, s: &str) -> Sql {
        match self.parts.last_mut() {
            Some(Part::Text(t)) => t.push_str(s),
            _ => self.parts.push(Part::Text(s.to_owned())),
        }
        self
    }

    pub fn bind(mut self, b: Bind) -> Sql {
        self.parts.push(Part::Bind(b));
        self
    }

    pub fn bind_text(self, s: impl Into<String>) -> Sql {
        self.bind(Bind::Text(s.into()))
    }

    pub fn append(mut self, other: Sql) -> Sql {
        self.cached &= other.cached;
        for part in other.parts {
            match part {
                Part::Text(t) => self = self.push(&t),
                Part::Bind(b) => self.parts.push(Part::Bind(b)),
            }
        }
        self
    }

    /// `(self)`.
    pub fn parens(self) -> Sql {
        Sql::text("(").append(self).push(")")
    }

    /// The number of bind parameters (tests).
    pub fn bind_count(&self) -> usize {
        self.parts.iter().filter(|p| matches!(p, Part::Bind(_))).count()
    }

    /// The SQL text with `?` for each parameter (tests and debugging).
    pub fn render(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::Bind(_) => "?",
            })
            .collect()
    }

    /// This fragment as a diesel expression of SQL type `ST`.
    pub fn expr<ST>(self) -> Raw<ST> {
        Raw(self, PhantomData)
    }
}

/// A [`Sql`] fragment as a diesel expression, usable in `filter` and `order_by` of boxed queries on any table.
#[derive(Debug, Clone)]
pub struct Raw<ST>(Sql, PhantomData<fn() -> ST>);

impl<ST: SqlType + TypedExpressionType> Expression for Raw<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<MultiBackend> for Raw<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        if !self.0.cached {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.0.parts {
            match part {
                Part::Text(t) => out.push_sql(t),
                Part::Bind(Bind::Text(v)) => out.push_bind_param::<Text, String>(v)?,
                Part::Bind(Bind::Bool(v)) => out.push_bind_param::<Bool, bool>(v)?,
                Part::Bind(Bind::Time(v)) => out.push_bind_param::<Timestamp, NaiveDateTime>(v)?,
                Part::Bind(Bind::BigInt(v)) => out.push_bind_param::<diesel::sql_types::BigInt, i64>(v)?,
                Part::Bind(Bind::Double(v)) => out.push_bind_param::<diesel::sql_types::Double, f64>(v)?,
            }
        }
        Ok(())
    }
}

impl<ST> QueryId for Raw<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, GB> ValidGrouping<GB> for Raw<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<ST: SqlType + TypedExpressionType, QS> AppearsOnTable<QS> for Raw<ST> {}

impl<ST: SqlType + TypedExpressionType, QS> SelectableExpression<QS> for Raw<ST> {}

/// One piece of a [`Statement`]: fixed text, or a value bound where it stands.
#[derive(Debug, Clone, Copy)]
pub enum Piece<'a> {
    Sql(&'static str),
    Text(&'a str),
    /// A text array: PostgreSQL only (SQLite takes a JSON array as [`Piece::Text`] and `json_each`).
    Texts(&'a [String]),
    Time(&'a NaiveDateTime),
}

/// A whole statement of fixed text and bound values, for the few that diesel's DSL cannot write (a CTE) on a
/// hot path. `diesel::sql_query` marks every statement as never kept, so each run is parsed and planned
/// again; diesel keeps this one prepared per connection, found by its text (which holds no value).
#[derive(Debug, Clone)]
pub struct Statement<'a>(pub Vec<Piece<'a>>);

impl QueryId for Statement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement<'_> {
    type SqlType = Untyped;
}

impl<C: Connection> RunQueryDsl<C> for Statement<'_> {}

/// How a backend binds a [`Piece::Texts`]: PostgreSQL as an array; SQLite has none.
pub trait TextArrays: Backend + HasSqlType<Text> + HasSqlType<Timestamp> {
    fn push_texts<'b>(out: &mut AstPass<'_, 'b, Self>, values: &'b [String]) -> QueryResult<()>;
}

impl TextArrays for Pg {
    fn push_texts<'b>(out: &mut AstPass<'_, 'b, Pg>, values: &'b [String]) -> QueryResult<()> {
        out.push_bind_param::<Array<Text>, [String]>(values)
    }
}

impl TextArrays for Sqlite {
    fn push_texts<'b>(_: &mut AstPass<'_, 'b, Sqlite>, _: &'b [String]) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError(
            "SQLite has no array parameters".into(),
        ))
    }
}

impl<DB> QueryFragment<DB> for Statement<'_>
where
    DB: TextArrays,
    str: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for piece in &self.0 {
            match piece {
                Piece::Sql(t) => out.push_sql(t),
                Piece::Text(v) => out.push_bind_param::<Text, str>(v)?,
                Piece::Texts(v) => DB::push_texts(&mut out, v)?,
                Piece::Time(v) => out.push_bind_param::<Timestamp, NaiveDateTime>(v)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_merges_and_binds_count() {
        let s = Sql::text("a = ")
            .bind_text("x")
            .push(" AND b")
            .push(" = ")
            .bind(Bind::Bool(true));
        assert_eq!(s.render(), "a = ? AND b = ?");
        assert_eq!(s.bind_count(), 2);
        assert_eq!(s.parens().render(), "(a = ? AND b = ?)");
    }

    #[test]
    fn an_uncached_part_makes_the_whole_uncached() {
        assert!(Sql::text("a = ").bind_text("x").is_cached());
        let whole = Sql::text("(").append(Sql::text("b").uncached()).push(")");
        assert!(!whole.is_cached());
        assert!(!whole.clone().append(Sql::text("c")).is_cached());
    }
}
