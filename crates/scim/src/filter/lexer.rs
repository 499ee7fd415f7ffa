//! The filter lexer: a flat, non-recursive scan of the input into tokens, each with its byte offset so that
//! errors can point at the problem. Shared by the filter parser and the PATCH path parser.

use super::MAX_FILTER_LEN;
use crate::error::ScimError;
use crate::work;
use std::borrow::Cow;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// An attribute path, a keyword, an operator or a bare literal (number, `true`, GUID, ...).
    Word(&'a str),
    /// A JSON string literal, unescaped.
    Str(Cow<'a, str>),
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub pos: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.' | b'$' | b'+')
}

/// Splits `input` into tokens. Checks [`MAX_FILTER_LEN`] first, so no later stage sees a longer input.
pub(crate) fn lex<'a>(input: &'a str, what: &str) -> Result<Vec<Token<'a>>, ScimError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter(format!(
            "The {what} is {} bytes long; the limit (MAX_FILTER_LEN) is {MAX_FILTER_LEN} bytes.",
            input.len()
        )));
    }
    let bytes = input.as_bytes();
    let mut tokens = Vec::with_capacity(8);
    let mut i = 0;
    while i < bytes.len() {
        work::add(1);
        let b = bytes[i];
        let tok = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'"' => {
                let (s, end) = lex_string(input, i, what)?;
                tokens.push(Token {
                    tok: Tok::Str(s),
                    pos: i,
                });
                i = end;
                continue;
            }
            _ if is_word_byte(b) => {
                let start = i;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    work::add(1);
                    i += 1;
                }
                tokens.push(Token {
                    tok: Tok::Word(&input[start..i]),
                    pos: start,
                });
                continue;
            }
            _ => {
                let c = input[i..].chars().next().unwrap_or('?');
                return Err(ScimError::invalid_filter(format!(
                    "Unexpected character '{}' at position {i} of the {what}.",
                    c.escape_default()
                )));
            }
        };
        tokens.push(Token { tok, pos: i });
        i += 1;
    }
    Ok(tokens)
}

/// Lexes the JSON string starting at `start` (a `"`); returns the unescaped text and the offset after it.
fn lex_string<'a>(input: &'a str, start: usize, what: &str) -> Result<(Cow<'a, str>, usize), ScimError> {
    let bytes = input.as_bytes();
    let mut i = start + 1;
    let mut escaped = false;
    while i < bytes.len() {
        work::add(1);
        match bytes[i] {
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'"' => {
                let raw = &input[start..=i];
                let text = if escaped {
                    Cow::Owned(serde_json::from_str::<String>(raw).map_err(|e| {
                        ScimError::invalid_filter(format!(
                            "The string starting at position {start} of the {what} is not a valid JSON string: {e}."
                        ))
                    })?)
                } else {
                    Cow::Borrowed(&input[start + 1..i])
                };
                work::add_len(text.len());
                // PostgreSQL cannot bind a text parameter holding U+0000: refuse it here, as a 400.
                if text.contains('\0') {
                    return Err(ScimError::invalid_filter(format!(
                        "The string starting at position {start} of the {what} contains a NUL character \
                         (U+0000), which no attribute value can hold."
                    )));
                }
                return Ok((text, i + 1));
            }
            _ => i += 1,
        }
    }
    Err(ScimError::invalid_filter(format!(
        "The string starting at position {start} of the {what} has no closing quote."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_strings_and_brackets() {
        let toks =
            lex(r#"emails[type eq "wo\"rk"]"#, "filter").map(|t| t.into_iter().map(|t| t.tok).collect());
        assert_eq!(
            toks,
            Ok(vec![
                Tok::Word("emails"),
                Tok::LBracket,
                Tok::Word("type"),
                Tok::Word("eq"),
                Tok::Str(Cow::Owned("wo\"rk".into())),
                Tok::RBracket,
            ])
        );
    }

    #[test]
    fn reports_position_of_bad_characters_and_open_strings() {
        let err = lex("userName eq 'x'", "filter").err().map(|e| e.detail);
        assert_eq!(
            err.as_deref(),
            Some("Unexpected character '\\'' at position 12 of the filter.")
        );
        let err = lex("userName eq \"x", "filter").err().map(|e| e.detail);
        assert!(err.is_some_and(|d| d.contains("no closing quote")));
        // NUL, raw or escaped, is refused in operands.
        for text in ["a eq \"x\u{0}y\"", r#"a eq "x\u0000y""#] {
            let e = lex(text, "filter").err();
            assert!(e.is_some_and(
                |e| e.scim_type == Some(crate::ScimType::InvalidFilter) && e.detail.contains("NUL")
            ));
        }
        // A backslash as the very last byte must not read past the end.
        assert!(lex("a eq \"\\", "filter").is_err());
    }
}
