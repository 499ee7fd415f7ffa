//! The filter AST as parsed ([`Filter`], [`AttrPath`], [`CompareOp`], [`CompValue`]) and its rendering
//! back to RFC 7644 §3.4.2.2 text (`Display`), which parses back to an equal AST.

use std::fmt;

/// An attribute path (RFC 7644 §3.10): `[urn ":"] attr ["." subAttr]`, spelled as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, when qualified.
    pub urn: Option<String>,
    /// The attribute name.
    pub attr: String,
    /// The sub-attribute name.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// An unqualified path with no sub-attribute.
    pub fn new(attr: impl Into<String>) -> Self {
        Self {
            urn: None,
            attr: attr.into(),
            sub_attr: None,
        }
    }

    /// An unqualified path with a sub-attribute.
    pub fn with_sub(attr: impl Into<String>, sub: impl Into<String>) -> Self {
        Self {
            urn: None,
            attr: attr.into(),
            sub_attr: Some(sub.into()),
        }
    }

    /// Parses `[urn:]attr[.sub]`. The URN is everything before the last `:` (URNs contain dots, such as
    /// `2.0`, so the split must come first). On failure, says why.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (urn, rest) = match text.rfind(':') {
            Some(i) => {
                let urn = &text[..i];
                let is_urn = urn.len() > 4 && urn.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
                if !is_urn {
                    return Err(format!(
                        "\"{text}\" is not an attribute path: only a schema URN may contain ':'"
                    ));
                }
                (Some(urn.to_owned()), &text[i + 1..])
            }
            None => (None, text),
        };
        let mut parts = rest.split('.');
        let attr = parts.next().unwrap_or_default();
        let sub = parts.next();
        if parts.next().is_some() {
            return Err(format!("\"{text}\" has more than one sub-attribute level"));
        }
        if !is_attr_name(attr) {
            return Err(format!(
                "\"{text}\" is not an attribute path: \"{attr}\" is not an attribute name"
            ));
        }
        if let Some(s) = sub
            && !is_attr_name(s)
        {
            return Err(format!(
                "\"{text}\" is not an attribute path: \"{s}\" is not an attribute name"
            ));
        }
        Ok(Self {
            urn,
            attr: attr.to_owned(),
            sub_attr: sub.map(str::to_owned),
        })
    }
}

/// RFC 7643 §2.1 `ATTRNAME = ALPHA *(nameChar)`, plus the `$ref` spelling RFC 7643 itself uses.
pub(crate) fn is_attr_name(s: &str) -> bool {
    let body = s.strip_prefix('$').unwrap_or(s);
    let mut chars = body.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3). `pr` is [`Filter::Present`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal: true when no value of the attribute equals the operand (so `not (x eq v)`).
    Ne,
    /// Contains (a substring).
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal to.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal to.
    Le,
}

impl CompareOp {
    /// The operator keyword, lowercase.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// The operator for a keyword in any case.
    pub fn from_keyword(word: &str) -> Option<Self> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// Whether this is one of the ordering operators `gt ge lt le`.
    pub const fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }

    /// Whether this is one of the substring operators `co sw ew`.
    pub const fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison operand (RFC 7644 `compValue`). dateTime values are strings until resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// A JSON string.
    Str(String),
    /// A JSON number.
    Num(serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => {
                let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
                f.write_str(&quoted)
            }
            Self::Num(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Null => f.write_str("null"),
        }
    }
}

/// A parsed filter (RFC 7644 §3.4.2.2). `and` binds tighter than `or`; a chain `a and b and c ...` is
/// parsed into a balanced tree (see the parser), which renders with parentheses around nested chains.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// The inner filter does not hold.
    Not(Box<Filter>),
    /// `attr pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attr op value`.
    Compare {
        /// The attribute.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The operand.
        value: CompValue,
    },
    /// `attr[filter]`: some value of the (complex) attribute satisfies the inner filter, whose paths are
    /// sub-attribute names of `attr`.
    ValuePath {
        /// The complex attribute.
        path: AttrPath,
        /// The filter applied to each of its values.
        filter: Box<Filter>,
    },
}

impl Filter {
    /// The number of nodes, as counted against [`crate::filter::MAX_FILTER_NODES`].
    pub fn node_count(&self) -> usize {
        match self {
            Self::And(a, b) | Self::Or(a, b) => 1 + a.node_count() + b.node_count(),
            Self::Not(a) | Self::ValuePath { filter: a, .. } => 1 + a.node_count(),
            Self::Present(_) | Self::Compare { .. } => 1,
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Self::Or(..) => 1,
            Self::And(..) => 2,
            _ => 3,
        }
    }

    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, parens: bool) -> fmt::Result {
        if parens {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(a, b) | Self::Or(a, b) => {
                let (p, word) = if matches!(self, Self::And(..)) {
                    (2, "and")
                } else {
                    (1, "or")
                };
                // Operands of the same operator are parenthesised, so that the parser (which builds
                // balanced trees from flat chains) gives back exactly this tree.
                a.fmt_operand(f, a.precedence() <= p)?;
                write!(f, " {word} ")?;
                b.fmt_operand(f, b.precedence() <= p)
            }
            Self::Not(a) => write!(f, "not ({a})"),
            Self::Present(p) => write!(f, "{p} pr"),
            Self::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Self::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}
