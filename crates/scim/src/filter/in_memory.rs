//! Evaluation of a [`ResolvedFilter`] against a JSON resource document, following each attribute's type and
//! `caseExact`. Used by PATCH to select the values of a value path, and as the reference semantics the
//! store's SQL translation is tested against. Never used to scan an organization's resources.

use super::ast::CompareOp;
use super::resolve::{ResolvedAttr, ResolvedFilter, TypedValue};
use crate::json::{field, is_assigned};
use crate::schema::Namespace;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::cmp::Ordering;

/// Whether the resource document `doc` satisfies `filter`.
pub fn matches(filter: &ResolvedFilter, doc: &Value) -> bool {
    eval(filter, doc, false)
}

/// Whether one value of a complex attribute satisfies a value-path filter (whose leaves are sub-attributes).
pub fn matches_element(filter: &ResolvedFilter, element: &Value) -> bool {
    eval(filter, element, true)
}

fn eval(filter: &ResolvedFilter, ctx: &Value, element: bool) -> bool {
    crate::work::add(1);
    match filter {
        ResolvedFilter::And(a, b) => eval(a, ctx, element) && eval(b, ctx, element),
        ResolvedFilter::Or(a, b) => eval(a, ctx, element) || eval(b, ctx, element),
        ResolvedFilter::Not(a) => !eval(a, ctx, element),
        ResolvedFilter::Present(attr) => values(attr, ctx, element).into_iter().any(is_assigned),
        ResolvedFilter::Compare { attr, op, value } => {
            let vals = values(attr, ctx, element);
            match (op, value) {
                (CompareOp::Eq, TypedValue::Null) => !vals.into_iter().any(is_assigned),
                (CompareOp::Ne, TypedValue::Null) => vals.into_iter().any(is_assigned),
                (CompareOp::Ne, v) => !vals
                    .into_iter()
                    .any(|x| compare(x, CompareOp::Eq, v, attr.case_exact)),
                (op, v) => vals.into_iter().any(|x| compare(x, *op, v, attr.case_exact)),
            }
        }
        ResolvedFilter::ValuePath { attr, filter } => values(attr, ctx, false)
            .into_iter()
            .any(|elem| eval(filter, elem, true)),
    }
}

/// The values a leaf designates: with a multi-valued attribute, one per value.
fn values<'v>(attr: &ResolvedAttr, ctx: &'v Value, element: bool) -> Vec<&'v Value> {
    if element {
        return attr
            .sub_attr
            .and_then(|s| field(ctx, s.name))
            .into_iter()
            .collect();
    }
    let container = match attr.namespace {
        Namespace::Extension(s) => field(ctx, s.id),
        Namespace::Common | Namespace::Core => Some(ctx),
    };
    let Some(top) = container.and_then(|c| field(c, attr.attr.name)) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match top {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    match attr.sub_attr {
        None => items,
        Some(sub) => items.into_iter().filter_map(|i| field(i, sub.name)).collect(),
    }
}

fn compare(actual: &Value, op: CompareOp, operand: &TypedValue, case_exact: bool) -> bool {
    let ord = match operand {
        TypedValue::String(s) => {
            let Some(a) = actual.as_str() else { return false };
            if case_exact {
                return compare_str(a, op, s);
            }
            return compare_str(&a.to_lowercase(), op, &s.to_lowercase());
        }
        TypedValue::Boolean(b) => actual.as_bool().map(|a| a.cmp(b)),
        TypedValue::Integer(i) => actual.as_i64().map(|a| a.cmp(i)),
        TypedValue::Decimal(d) => actual.as_f64().and_then(|a| a.partial_cmp(d)),
        TypedValue::DateTime(t) => actual
            .as_str()
            .and_then(|a| DateTime::parse_from_rfc3339(a).ok())
            .map(|a| a.with_timezone(&Utc).cmp(t)),
        TypedValue::Null => None,
    };
    ord.is_some_and(|o| ordering_holds(op, o))
}

fn compare_str(a: &str, op: CompareOp, b: &str) -> bool {
    match op {
        CompareOp::Co => a.contains(b),
        CompareOp::Sw => a.starts_with(b),
        CompareOp::Ew => a.ends_with(b),
        _ => ordering_holds(op, a.cmp(b)),
    }
}

fn ordering_holds(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
