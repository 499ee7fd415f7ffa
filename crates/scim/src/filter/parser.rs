//! The recursive-descent filter parser. Recursion only happens on `(`, `not (` and `[`, and each level is
//! counted against [`MAX_FILTER_DEPTH`] before descending; `and`/`or` chains are loops. Every node is counted
//! against [`MAX_FILTER_NODES`], so the AST (and every recursive walk over it) stays small.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use super::lexer::{Tok, Token};
use super::{MAX_FILTER_DEPTH, MAX_FILTER_NODES};
use crate::error::ScimError;

pub(crate) struct Parser<'a, 't> {
    tokens: &'t [Token<'a>],
    at: usize,
    depth: usize,
    nodes: usize,
    end: usize,
    what: &'static str,
}

impl<'a, 't> Parser<'a, 't> {
    pub(crate) fn new(tokens: &'t [Token<'a>], input_len: usize, what: &'static str) -> Self {
        Self {
            tokens,
            at: 0,
            depth: 0,
            nodes: 0,
            end: input_len,
            what,
        }
    }

    pub(crate) fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.at)
    }

    pub(crate) fn bump(&mut self) -> Option<&'t Token<'a>> {
        crate::work::add(1);
        let t = self.tokens.get(self.at);
        if t.is_some() {
            self.at += 1;
        }
        t
    }

    pub(crate) fn pos(&self) -> usize {
        self.peek().map_or(self.end, |t| t.pos)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    pub(crate) fn error(&self, msg: impl std::fmt::Display) -> ScimError {
        ScimError::invalid_filter(format!("{msg} at position {} of the {}.", self.pos(), self.what))
    }

    fn count_node(&mut self) -> Result<(), ScimError> {
        self.nodes += 1;
        if self.nodes > MAX_FILTER_NODES {
            return Err(ScimError::invalid_filter(format!(
                "The {} has more than {MAX_FILTER_NODES} expressions (MAX_FILTER_NODES).",
                self.what
            )));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(ScimError::invalid_filter(format!(
                "The {} nests parentheses, 'not' or '[...]' more than {MAX_FILTER_DEPTH} levels deep \
                 (MAX_FILTER_DEPTH).",
                self.what
            )));
        }
        Ok(())
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    /// `filter := and_expr ("or" and_expr)*`
    pub(crate) fn parse_filter(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        let mut terms = vec![self.parse_and(in_value_path)?];
        while self.keyword("or") {
            self.bump();
            terms.push(self.parse_and(in_value_path)?);
            self.count_node()?;
        }
        balance(terms, Filter::Or)
    }

    /// `and_expr := unary ("and" unary)*`
    fn parse_and(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        let mut terms = vec![self.parse_unary(in_value_path)?];
        while self.keyword("and") {
            self.bump();
            terms.push(self.parse_unary(in_value_path)?);
            self.count_node()?;
        }
        balance(terms, Filter::And)
    }

    /// `unary := "not" "(" filter ")" | "(" filter ")" | attrExp | valuePath`
    fn parse_unary(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        let is_not = self.keyword("not")
            && matches!(self.tokens.get(self.at + 1), Some(Token { tok: Tok::LParen, .. }));
        if is_not {
            self.bump();
            let inner = self.parse_group(in_value_path)?;
            self.count_node()?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.peek().map(|t| &t.tok) {
            Some(Tok::LParen) => self.parse_group(in_value_path),
            Some(Tok::Word(_)) => self.parse_attr_expr(in_value_path),
            Some(_) => Err(self.error("Expected an attribute, 'not' or '('")),
            None => Err(self.error("Expected an expression")),
        }
    }

    /// `"(" filter ")"`
    fn parse_group(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        self.enter()?;
        self.bump(); // "("
        let inner = self.parse_filter(in_value_path)?;
        match self.bump().map(|t| &t.tok) {
            Some(Tok::RParen) => {
                self.depth -= 1;
                Ok(inner)
            }
            _ => {
                self.at = self.at.saturating_sub(1);
                Err(self.error("Expected ')'"))
            }
        }
    }

    pub(crate) fn parse_attr_path(&mut self) -> Result<AttrPath, ScimError> {
        let pos = self.pos();
        match self.bump().map(|t| &t.tok) {
            Some(Tok::Word(w)) => AttrPath::parse(w).map_err(|e| {
                ScimError::invalid_filter(format!("{e} (at position {pos} of the {}).", self.what))
            }),
            _ => Err(ScimError::invalid_filter(format!(
                "Expected an attribute path at position {pos} of the {}.",
                self.what
            ))),
        }
    }

    /// The `"[" valFilter "]"` part of a value path, the opening bracket being next.
    pub(crate) fn parse_value_filter(&mut self) -> Result<Filter, ScimError> {
        self.enter()?;
        self.bump(); // "["
        let inner = self.parse_filter(true)?;
        match self.bump().map(|t| &t.tok) {
            Some(Tok::RBracket) => {
                self.depth -= 1;
                Ok(inner)
            }
            _ => {
                self.at = self.at.saturating_sub(1);
                Err(self.error("Expected ']'"))
            }
        }
    }

    /// `attrExp := attrPath "pr" | attrPath compareOp compValue`, or a value path.
    fn parse_attr_expr(&mut self, in_value_path: bool) -> Result<Filter, ScimError> {
        let path = self.parse_attr_path()?;
        self.count_node()?;
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::LBracket)) {
            if in_value_path {
                return Err(self.error("A value filter '[...]' cannot contain another one"));
            }
            if path.sub_attr.is_some() {
                return Err(self.error(format!(
                    "'[' must follow an attribute, not the sub-attribute \"{path}\""
                )));
            }
            let filter = self.parse_value_filter()?;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }
        let op_pos = self.pos();
        let op_word = match self.bump().map(|t| &t.tok) {
            Some(Tok::Word(w)) => *w,
            _ => {
                self.at = self.at.saturating_sub(1);
                return Err(self.error(format!("Expected an operator after \"{path}\"")));
            }
        };
        if op_word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(op_word) else {
            return Err(ScimError::invalid_filter(format!(
                "\"{op_word}\" at position {op_pos} of the {} is not an operator; expected one of \
                 eq, ne, co, sw, ew, gt, ge, lt, le, pr.",
                self.what
            )));
        };
        let value = self.parse_value(&path, op)?;
        Ok(Filter::Compare { path, op, value })
    }

    fn parse_value(&mut self, path: &AttrPath, op: CompareOp) -> Result<CompValue, ScimError> {
        let pos = self.pos();
        let bad = |what: &str, detail: &str| {
            ScimError::invalid_filter(format!(
                "Expected a value after \"{path} {op}\" at position {pos} of the {what}{detail}; strings must be \
                 in double quotes."
            ))
        };
        match self.bump().map(|t| &t.tok) {
            Some(Tok::Str(s)) => Ok(CompValue::Str(s.clone().into_owned())),
            Some(Tok::Word(w)) => literal(w).ok_or_else(|| bad(self.what, &format!(", found {w}"))),
            _ => Err(bad(self.what, "")),
        }
    }
}

/// Joins a chain `a op b op c ...` into a balanced tree, so that a long chain (up to
/// [`MAX_FILTER_NODES`]) is only about eight levels deep for every recursive walk over the AST. `and` and
/// `or` are associative, so the shape does not change the meaning; rendering parenthesises nested
/// operands of the same operator, so the shape survives a round trip.
fn balance(
    mut terms: Vec<Filter>,
    join: fn(Box<Filter>, Box<Filter>) -> Filter,
) -> Result<Filter, ScimError> {
    while terms.len() > 1 {
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        let mut it = terms.into_iter();
        while let Some(a) = it.next() {
            crate::work::add(1);
            next.push(match it.next() {
                Some(b) => join(Box::new(a), Box::new(b)),
                None => a,
            });
        }
        terms = next;
    }
    terms
        .pop()
        .ok_or_else(|| ScimError::internal("empty filter chain"))
}

/// A bare (unquoted) literal: `true`, `false`, `null` (any case), a JSON number, or a GUID, which Entra ID
/// sends unquoted in `externalId eq` lookups.
fn literal(w: &str) -> Option<CompValue> {
    if w.eq_ignore_ascii_case("true") {
        return Some(CompValue::Bool(true));
    }
    if w.eq_ignore_ascii_case("false") {
        return Some(CompValue::Bool(false));
    }
    if w.eq_ignore_ascii_case("null") {
        return Some(CompValue::Null);
    }
    if is_guid(w) {
        return Some(CompValue::Str(w.to_owned()));
    }
    let first = w.as_bytes().first()?;
    if first.is_ascii_digit() || *first == b'-' {
        // serde_json checks the JSON number grammar and keeps integers exact; floats are re-read with the
        // standard library, which rounds correctly, so that rendering and parsing round-trip.
        let n = w.parse::<serde_json::Number>().ok()?;
        if n.is_f64() {
            return w
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(CompValue::Num);
        }
        return Some(CompValue::Num(n));
    }
    None
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(w: &str) -> bool {
    let groups: [usize; 5] = [8, 4, 4, 4, 12];
    let mut parts = w.split('-');
    groups.iter().all(|&n| {
        parts
            .next()
            .is_some_and(|p| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
    }) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(literal("TRUE"), Some(CompValue::Bool(true)));
        assert_eq!(literal("null"), Some(CompValue::Null));
        assert_eq!(
            literal("-1.5e3").map(|v| v.to_string()).as_deref(),
            Some("-1500.0")
        );
        assert_eq!(
            literal("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"),
            Some(CompValue::Str("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159".into()))
        );
        assert_eq!(literal("8aa1a0c0-c4c3-4bc0-b4a5-2ef67690015"), None);
        assert_eq!(literal("john"), None);
        assert_eq!(literal("012"), None);
    }
}
