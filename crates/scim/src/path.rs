//! PATCH attribute paths (RFC 7644 §3.5.2: `PATH = attrPath / valuePath [subAttr]`): `name.givenName`,
//! `members[value eq "id"]`, `emails[type eq "work"].value`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`. Parsed with the filter lexer and
//! parser, so a value filter in a path is exactly a filter.

use crate::error::{ScimError, ScimType};
use crate::filter::ast::{AttrPath, Filter};
use crate::filter::lexer::{Tok, lex};
use crate::filter::parser::Parser;
use std::fmt;

/// A parsed PATCH path.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute; its `sub_attr` is the sub-attribute targeted (after the filter, if there is one).
    pub attr: AttrPath,
    /// The value filter selecting values of a multi-valued attribute.
    pub filter: Option<Filter>,
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AttrPath { urn, attr, sub_attr } = &self.attr;
        if let Some(urn) = urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

fn as_path_error(mut e: ScimError) -> ScimError {
    e.scim_type = Some(ScimType::InvalidPath);
    e
}

/// Parses a PATCH path. Errors are `invalidPath` and say where the problem is.
pub fn parse(input: &str) -> Result<PatchPath, ScimError> {
    let tokens = lex(input, "path").map_err(as_path_error)?;
    let mut p = Parser::new(&tokens, input.len(), "path");
    if tokens.is_empty() {
        return Err(ScimError::invalid_path("The path is empty."));
    }
    let mut attr = p.parse_attr_path().map_err(as_path_error)?;
    let mut filter = None;
    if matches!(p.peek().map(|t| &t.tok), Some(Tok::LBracket)) {
        if attr.sub_attr.is_some() {
            return Err(ScimError::invalid_path(format!(
                "In the path \"{input}\", '[' must follow a multi-valued attribute, not a sub-attribute."
            )));
        }
        filter = Some(p.parse_value_filter().map_err(as_path_error)?);
        if let Some(Tok::Word(w)) = p.peek().map(|t| &t.tok) {
            let sub = w
                .strip_prefix('.')
                .filter(|s| crate::filter::ast::is_attr_name(s));
            let Some(sub) = sub else {
                return Err(as_path_error(
                    p.error("Expected '.' and a sub-attribute name after ']'"),
                ));
            };
            attr.sub_attr = Some(sub.to_owned());
            p.bump();
        }
    }
    if !p.at_end() {
        return Err(as_path_error(p.error("Unexpected text")));
    }
    Ok(PatchPath { attr, filter })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{CompValue, CompareOp};

    #[test]
    fn value_path_with_sub_attribute() {
        let p = parse(r#"emails[type eq "work"].value"#);
        let expected = PatchPath {
            attr: AttrPath::with_sub("emails", "value"),
            filter: Some(Filter::Compare {
                path: AttrPath::new("type"),
                op: CompareOp::Eq,
                value: CompValue::Str("work".into()),
            }),
        };
        assert_eq!(p, Ok(expected));
    }

    #[test]
    fn urn_qualified_and_round_trip() {
        for text in [
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
            "name.givenName",
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
            r#"addresses[type eq "work" and primary eq true].streetAddress"#,
        ] {
            let parsed = parse(text);
            assert_eq!(parsed.as_ref().map(ToString::to_string).as_deref(), Ok(text));
        }
        let p = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
        assert_eq!(
            p.map(|p| p.attr.urn),
            Ok(Some(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()
            ))
        );
    }

    #[test]
    fn malformed_paths_are_invalid_path() {
        for text in [
            "",
            "name.givenName.x",
            "emails[type eq \"work\"]value",
            "emails[",
            "a b",
            "name.x[y pr]",
        ] {
            let e = parse(text);
            assert_eq!(
                e.err().and_then(|e| e.scim_type),
                Some(ScimType::InvalidPath),
                "{text}"
            );
        }
    }
}
