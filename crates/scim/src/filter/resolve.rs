//! Resolution of a parsed [`Filter`] against a resource type: every attribute is looked up in the schema,
//! renamed to its canonical spelling and typed; unknown attributes, operators that do not apply to the
//! attribute's type and operands of the wrong type are `invalidFilter`. Nothing is ever dropped.
//!
//! The store translates a [`ResolvedFilter`] to SQL from its allowlist keyed by [`ResolvedAttr::path`].

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::error::ScimError;
use crate::schema::{
    AttrLocation, AttrType, AttributeDef, CUSTOM_USER_SCHEMA, CUSTOM_USER_URN, CustomSchema, Namespace,
    ResourceSchema,
};
use chrono::{DateTime, Utc};

/// A resolved attribute: canonical path, type and comparison rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedAttr {
    /// The canonical full path: `userName`, `name.familyName`, `emails.value`, `meta.lastModified`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
    pub path: String,
    /// Where the top-level attribute is defined.
    pub namespace: Namespace,
    /// The top-level attribute.
    pub attr: &'static AttributeDef,
    /// The sub-attribute, when the path names one.
    pub sub_attr: Option<&'static AttributeDef>,
    /// The type of the leaf (the sub-attribute's when there is one).
    pub ty: AttrType,
    /// Whether string comparison respects case.
    pub case_exact: bool,
    /// Whether the top-level attribute is multi-valued (the filter then matches if any value matches).
    pub multi_valued: bool,
}

/// An operand converted to the attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// For string, reference and binary attributes.
    String(String),
    /// For boolean attributes.
    Boolean(bool),
    /// For integer attributes.
    Integer(i64),
    /// For decimal attributes.
    Decimal(f64),
    /// For dateTime attributes, normalised to UTC.
    DateTime(DateTime<Utc>),
    /// `null`: with `eq` the attribute is unassigned, with `ne` it is assigned.
    Null,
}

/// A filter whose every leaf is a [`ResolvedAttr`] and whose operands are typed.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedFilter {
    /// Both hold.
    And(Box<ResolvedFilter>, Box<ResolvedFilter>),
    /// Either holds.
    Or(Box<ResolvedFilter>, Box<ResolvedFilter>),
    /// The inner filter does not hold.
    Not(Box<ResolvedFilter>),
    /// The attribute has a non-empty value.
    Present(ResolvedAttr),
    /// A comparison.
    Compare {
        /// The attribute.
        attr: ResolvedAttr,
        /// The operator, valid for the attribute's type.
        op: CompareOp,
        /// The operand, of the attribute's type (or `Null` with `eq`/`ne`).
        value: TypedValue,
    },
    /// One value of the complex attribute `attr` satisfies `filter`, whose leaves are its sub-attributes
    /// (with full paths such as `emails.type`) and must hold for the same value.
    ValuePath {
        /// The complex attribute.
        attr: ResolvedAttr,
        /// The filter on one of its values.
        filter: Box<ResolvedFilter>,
    },
}

impl ResolvedFilter {
    /// Every leaf attribute, left to right (value-path parents excluded).
    pub fn leaves(&self) -> Vec<&ResolvedAttr> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'s>(&'s self, out: &mut Vec<&'s ResolvedAttr>) {
        match self {
            Self::And(a, b) | Self::Or(a, b) => {
                a.collect_leaves(out);
                b.collect_leaves(out);
            }
            Self::Not(a) | Self::ValuePath { filter: a, .. } => a.collect_leaves(out),
            Self::Present(attr) | Self::Compare { attr, .. } => out.push(attr),
        }
    }
}

/// Resolves `filter` against the resource type `schema`.
pub fn resolve(filter: &Filter, schema: &ResourceSchema) -> Result<ResolvedFilter, ScimError> {
    resolve_in(filter, schema, None, None)
}

/// Resolves `filter` against `schema` and the org's custom attributes: a declared filterable attribute
/// resolves (its namespace is the custom extension), one declared but not filterable is `invalidFilter`.
pub fn resolve_with(
    filter: &Filter,
    schema: &ResourceSchema,
    custom: &CustomSchema,
) -> Result<ResolvedFilter, ScimError> {
    resolve_in(filter, schema, None, Some(custom))
}

/// Resolves the inner filter of a value path on the complex attribute `parent`.
pub(crate) fn resolve_value_filter(
    filter: &Filter,
    schema: &ResourceSchema,
    parent: AttrLocation,
) -> Result<ResolvedFilter, ScimError> {
    resolve_in(filter, schema, Some(parent), None)
}

fn resolve_in(
    filter: &Filter,
    schema: &ResourceSchema,
    parent: Option<AttrLocation>,
    custom: Option<&CustomSchema>,
) -> Result<ResolvedFilter, ScimError> {
    crate::work::add(1);
    Ok(match filter {
        Filter::And(a, b) => ResolvedFilter::And(
            Box::new(resolve_in(a, schema, parent, custom)?),
            Box::new(resolve_in(b, schema, parent, custom)?),
        ),
        Filter::Or(a, b) => ResolvedFilter::Or(
            Box::new(resolve_in(a, schema, parent, custom)?),
            Box::new(resolve_in(b, schema, parent, custom)?),
        ),
        Filter::Not(a) => ResolvedFilter::Not(Box::new(resolve_in(a, schema, parent, custom)?)),
        Filter::Present(path) => ResolvedFilter::Present(resolve_path_in(path, schema, parent, custom)?),
        Filter::Compare { path, op, value } => {
            let mut attr = resolve_path_in(path, schema, parent, custom)?;
            if attr.ty == AttrType::Complex {
                // RFC 7643 §2.4: `value` is a complex attribute's significant sub-attribute, so
                // `emails eq "x"` means `emails.value eq "x"`.
                match attr.attr.sub("value") {
                    Some(sub) if attr.sub_attr.is_none() => attr = with_sub(attr, sub),
                    _ => {
                        return Err(ScimError::invalid_filter(format!(
                            "\"{}\" is a complex attribute: compare one of its sub-attributes, such as \"{}.{}\".",
                            attr.path,
                            attr.path,
                            attr.attr.sub_attributes.first().map_or("value", |s| s.name)
                        )));
                    }
                }
            }
            let value = typed_value(&attr, *op, value)?;
            ResolvedFilter::Compare { attr, op: *op, value }
        }
        Filter::ValuePath { path, filter } => {
            if parent.is_some() {
                return Err(ScimError::invalid_filter(
                    "A value filter '[...]' cannot contain another one.",
                ));
            }
            let attr = resolve_path_in(path, schema, None, custom)?;
            if attr.ty != AttrType::Complex || attr.sub_attr.is_some() {
                return Err(ScimError::invalid_filter(format!(
                    "\"{}[...]\" filters the values of a complex attribute, and \"{}\" is not one.",
                    attr.path, attr.path
                )));
            }
            let loc = AttrLocation {
                namespace: attr.namespace,
                def: attr.attr,
            };
            let inner = resolve_in(filter, schema, Some(loc), custom)?;
            ResolvedFilter::ValuePath {
                attr,
                filter: Box::new(inner),
            }
        }
    })
}

fn with_sub(attr: ResolvedAttr, sub: &'static AttributeDef) -> ResolvedAttr {
    ResolvedAttr {
        path: format!("{}.{}", attr.path, sub.name),
        sub_attr: Some(sub),
        ty: sub.ty,
        case_exact: sub.case_exact,
        ..attr
    }
}

/// Resolves an attribute path at the top level, or inside a value filter of `parent`.
pub(crate) fn resolve_path(
    path: &AttrPath,
    schema: &ResourceSchema,
    parent: Option<AttrLocation>,
) -> Result<ResolvedAttr, ScimError> {
    resolve_path_in(path, schema, parent, None)
}

fn resolve_path_in(
    path: &AttrPath,
    schema: &ResourceSchema,
    parent: Option<AttrLocation>,
    custom: Option<&CustomSchema>,
) -> Result<ResolvedAttr, ScimError> {
    if let Some(urn) = &path.urn
        && parent.is_none()
        && urn.eq_ignore_ascii_case(CUSTOM_USER_URN)
        && schema.extension(urn).is_some()
    {
        return resolve_custom(path, custom.unwrap_or(&CustomSchema::default()));
    }
    if let Some(parent) = parent {
        let sub = match (&path.urn, &path.sub_attr) {
            (None, None) => parent.def.sub(&path.attr),
            _ => None,
        };
        let Some(sub) = sub else {
            return Err(ScimError::invalid_filter(format!(
                "\"{path}\" is not a sub-attribute of \"{}\".",
                parent.canonical_name()
            )));
        };
        return Ok(with_sub(leaf(parent), sub));
    }
    let Some(loc) = schema.attribute(path.urn.as_deref(), &path.attr) else {
        return Err(unknown(path, schema));
    };
    let attr = leaf(loc);
    match &path.sub_attr {
        None => Ok(attr),
        Some(s) => match loc.def.sub(s) {
            Some(sub) => Ok(with_sub(attr, sub)),
            None => Err(ScimError::invalid_filter(format!(
                "\"{}\" has no sub-attribute \"{s}\".",
                loc.canonical_name()
            ))),
        },
    }
}

/// A custom attribute: declared and filterable, or `invalidFilter` saying which it is not.
fn resolve_custom(path: &AttrPath, custom: &CustomSchema) -> Result<ResolvedAttr, ScimError> {
    let Some(def) = custom.find(&path.attr) else {
        return Err(ScimError::invalid_filter(format!(
            "\"{path}\" is not a custom attribute this organization declared."
        )));
    };
    if !def.filterable {
        return Err(ScimError::invalid_filter(format!(
            "\"{}\" is not declared filterable, so it cannot be used in a filter.",
            def.path()
        )));
    }
    if path.sub_attr.is_some() {
        return Err(ScimError::invalid_filter(format!(
            "\"{}\" has no sub-attributes.",
            def.path()
        )));
    }
    Ok(ResolvedAttr {
        path: def.path(),
        namespace: Namespace::Extension(&CUSTOM_USER_SCHEMA),
        attr: def.ty.stand_in(),
        sub_attr: None,
        ty: def.ty.attr_type(),
        case_exact: def.case_exact,
        multi_valued: def.multi_valued,
    })
}

fn leaf(loc: AttrLocation) -> ResolvedAttr {
    ResolvedAttr {
        path: loc.canonical_name(),
        namespace: loc.namespace,
        attr: loc.def,
        sub_attr: None,
        ty: loc.def.ty,
        case_exact: loc.def.case_exact,
        multi_valued: loc.def.multi_valued,
    }
}

fn unknown(path: &AttrPath, schema: &ResourceSchema) -> ScimError {
    match &path.urn {
        Some(urn) if !schema.is_core_urn(urn) && schema.extension(urn).is_none() => {
            ScimError::invalid_filter(format!(
                "\"{urn}\" is not a schema of the {} resource type (in \"{path}\").",
                schema.name
            ))
        }
        _ => ScimError::invalid_filter(format!(
            "\"{path}\" is not an attribute of the {} resource type.",
            schema.name
        )),
    }
}

fn typed_value(attr: &ResolvedAttr, op: CompareOp, value: &CompValue) -> Result<TypedValue, ScimError> {
    let ty = attr.ty;
    let op_error = || {
        ScimError::invalid_filter(format!(
            "The \"{op}\" operator cannot be used with \"{}\", a {} attribute.",
            attr.path,
            ty.as_str()
        ))
    };
    if op.is_substring() && !matches!(ty, AttrType::String | AttrType::Reference | AttrType::Binary) {
        return Err(op_error());
    }
    if op.is_ordering() && matches!(ty, AttrType::Boolean | AttrType::Binary) {
        return Err(op_error());
    }
    let type_error = || {
        ScimError::invalid_filter(format!(
            "\"{}\" is a {} attribute and cannot be compared with {value}.",
            attr.path,
            ty.as_str()
        ))
    };
    Ok(match (ty, value) {
        (_, CompValue::Null) => {
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(ScimError::invalid_filter(format!(
                    "null can only be compared with \"eq\" or \"ne\" (in \"{} {op} null\").",
                    attr.path
                )));
            }
            TypedValue::Null
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, CompValue::Str(s)) => {
            TypedValue::String(s.clone())
        }
        (AttrType::Boolean, CompValue::Bool(b)) => TypedValue::Boolean(*b),
        (AttrType::Integer, CompValue::Num(n)) => TypedValue::Integer(n.as_i64().ok_or_else(type_error)?),
        (AttrType::Decimal, CompValue::Num(n)) => TypedValue::Decimal(n.as_f64().ok_or_else(type_error)?),
        (AttrType::DateTime, CompValue::Str(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => TypedValue::DateTime(t.with_timezone(&Utc)),
            Err(_) => {
                return Err(ScimError::invalid_filter(format!(
                    "\"{}\" is a dateTime attribute and {value} is not a date and time such as \
                     \"2011-05-13T04:42:34Z\".",
                    attr.path
                )));
            }
        },
        _ => return Err(type_error()),
    })
}
