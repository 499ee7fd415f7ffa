//! The SCIM filter language of RFC 7644 §3.4.2.2.
//!
//! - [`lexer`]: text to tokens (flat, bounded by [`MAX_FILTER_LEN`]).
//! - [`parser`]: tokens to [`Filter`] (bounded by [`MAX_FILTER_DEPTH`] and [`MAX_FILTER_NODES`]).
//! - [`ast`]: [`Filter`], [`AttrPath`], [`CompareOp`], [`CompValue`] and their `Display` rendering.
//! - [`mod@resolve`]: [`Filter`] checked against a [`crate::schema::ResourceSchema`] into a [`ResolvedFilter`]
//!   that names each attribute canonically with its type and `caseExact`: what the store translates to SQL.
//! - [`in_memory`]: evaluation of a [`ResolvedFilter`] against a JSON document (PATCH value paths, tests).
//!
//! ```
//! use scimd_scim::filter;
//! use scimd_scim::schema::USER;
//! let f = filter::parse(r#"emails[type eq "work" and value co "@example.com"]"#)?;
//! let resolved = filter::resolve(&f, &USER)?;
//! assert_eq!(resolved.leaves()[1].path, "emails.value");
//! # Ok::<(), scimd_scim::ScimError>(())
//! ```

pub mod ast;
pub mod in_memory;
pub(crate) mod lexer;
pub(crate) mod parser;
pub mod resolve;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub use resolve::{ResolvedAttr, ResolvedFilter, TypedValue, resolve};

use crate::error::ScimError;

/// The longest filter accepted, in bytes. Longer filters are refused before any parsing.
pub const MAX_FILTER_LEN: usize = 8 * 1024;
/// The deepest nesting of `( )`, `not ( )` and `[ ]` accepted.
pub const MAX_FILTER_DEPTH: usize = 32;
/// The most expressions (comparisons, presence tests, value paths, `and`, `or`, `not`) in one filter.
pub const MAX_FILTER_NODES: usize = 256;

/// Parses a filter (RFC 7644 §3.4.2.2). Attribute names, operators and keywords are case-insensitive;
/// names keep the client's spelling until [`resolve()`] canonicalises them.
pub fn parse(input: &str) -> Result<Filter, ScimError> {
    let tokens = lexer::lex(input, "filter")?;
    if tokens.is_empty() {
        return Err(ScimError::invalid_filter("The filter is empty."));
    }
    let mut p = parser::Parser::new(&tokens, input.len(), "filter");
    let filter = p.parse_filter(false)?;
    if !p.at_end() {
        return Err(p.error("Expected 'and', 'or' or the end of the filter"));
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_rendering() {
        let f = parse(r#"a eq 1 or b eq 2 and c pr"#);
        assert_eq!(
            f.map(|f| f.to_string()).as_deref(),
            Ok("a eq 1 or b eq 2 and c pr")
        );
        let f = parse(r#"(a eq 1 or b eq 2) and not (c pr)"#);
        assert_eq!(
            f.map(|f| f.to_string()).as_deref(),
            Ok("(a eq 1 or b eq 2) and not (c pr)")
        );
        let f = parse(r#"a pr and (b pr and c pr)"#);
        assert_eq!(
            f.map(|f| f.to_string()).as_deref(),
            Ok("a pr and (b pr and c pr)")
        );
    }

    #[test]
    fn limits_are_named() {
        let long = format!("userName eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
        assert!(parse(&long).is_err_and(|e| e.detail.contains("MAX_FILTER_LEN")));
        let deep = format!("{}a pr{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).is_err_and(|e| e.detail.contains("MAX_FILTER_DEPTH")));
        let wide = vec!["a pr"; 200].join(" or ");
        assert!(parse(&wide).is_err_and(|e| e.detail.contains("MAX_FILTER_NODES")));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse(r#"userName eq "x" and"#).err().map(|e| e.detail);
        assert_eq!(
            e.as_deref(),
            Some("Expected an expression at position 19 of the filter.")
        );
        let e = parse(r#"userName is "x""#).err().map(|e| e.detail);
        assert!(e.is_some_and(|d| d.contains("\"is\" at position 9")));
        let e = parse(r#"userName eq john"#).err().map(|e| e.detail);
        assert!(e.is_some_and(|d| d.contains("double quotes")));
        assert!(parse("emails[type eq \"work\"").is_err());
        assert!(parse("emails[type[value pr]]").is_err());
        assert!(parse("").is_err());
        assert!(parse("()").is_err());
    }
}
