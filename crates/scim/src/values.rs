//! Checking and coercing incoming attribute values against their [`AttributeDef`]: types, the string
//! booleans Entra ID sends (`"True"` / `"False"`, strictly those), a complex attribute given as its bare
//! `value` (Entra's `manager`), canonical key spelling, `primary` at most once. readOnly sub-attributes and
//! unknown sub-attributes inside a value are ignored, as RFC 7644 §3.3 says of readOnly input.
//!
//! Shared by create/replace validation ([`crate::resources`]) and the PATCH engine ([`crate::patch`]).

use crate::dialect::{Dialect, Dialects};
use crate::distinct::Distinct;
use crate::error::ScimError;
use crate::limits;
use crate::schema::{AttrType, AttributeDef, Mutability};
use serde_json::{Map, Value};

/// Coerces `value` for `def`; `name` is the attribute's path, for messages. `null` stays `null` (the caller
/// treats it as unassigned). Multi-valued attributes accept a single value and get an array.
pub(crate) fn coerce(
    def: &'static AttributeDef,
    value: Value,
    name: &str,
    dialects: &mut Dialects,
) -> Result<Value, ScimError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    if !def.multi_valued {
        return coerce_single(def, value, name, dialects);
    }
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    limits::check_values(items.len(), name)?;
    let mut out = Distinct::default();
    for item in items {
        if item.is_null() {
            continue;
        }
        out.push(coerce_single(def, item, name, dialects)?);
    }
    let mut out = out.into_vec();
    normalise_primary(&mut out);
    Ok(Value::Array(out))
}

/// Coerces one value (an element, for a multi-valued attribute).
pub(crate) fn coerce_single(
    def: &'static AttributeDef,
    value: Value,
    name: &str,
    dialects: &mut Dialects,
) -> Result<Value, ScimError> {
    crate::work::add(1);
    let wrong = |v: &Value| {
        let article = if def.ty == AttrType::Integer { "an" } else { "a" };
        ScimError::invalid_value(format!(
            "\"{name}\" must be {article} {}{}, not {}.",
            def.ty.as_str(),
            if def.ty == AttrType::Boolean {
                " (true or false)"
            } else {
                ""
            },
            describe(v)
        ))
    };
    match def.ty {
        AttrType::Complex => match value {
            Value::Object(obj) => Ok(Value::Object(coerce_complex(def, obj, name, dialects)?)),
            Value::String(s) if def.sub("value").is_some() => {
                let (max, limit) = limits::max_string_bytes(def, name);
                limits::check_string(&s, name, max, limit)?;
                dialects.note(Dialect::ComplexAsBareValue);
                let mut m = Map::new();
                m.insert("value".to_owned(), Value::String(s));
                Ok(Value::Object(m))
            }
            other => Err(wrong(&other)),
        },
        AttrType::Boolean => match value {
            Value::Bool(_) => Ok(value),
            Value::String(s) if s == "True" || s == "False" => {
                dialects.note(Dialect::StringBoolean);
                Ok(Value::Bool(s == "True"))
            }
            other => Err(wrong(&other)),
        },
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(ref s) => {
                let (max, limit) = limits::max_string_bytes(def, name);
                limits::check_string(s, name, max, limit)?;
                Ok(value)
            }
            other => Err(wrong(&other)),
        },
        AttrType::Integer => match value {
            Value::Number(ref n) if n.is_i64() || n.is_u64() => Ok(value),
            other => Err(wrong(&other)),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => Ok(value),
            other => Err(wrong(&other)),
        },
        AttrType::DateTime => match value {
            Value::String(ref s) if s.len() <= 64 && chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
                Ok(value)
            }
            other => Err(ScimError::invalid_value(format!(
                "\"{name}\" must be a date and time such as \"2011-05-13T04:42:34Z\", not {}.",
                describe(&other)
            ))),
        },
    }
}

/// The sub-attributes of a complex value: canonical names, coerced; readOnly, unknown and null ones dropped.
pub(crate) fn coerce_complex(
    def: &'static AttributeDef,
    obj: Map<String, Value>,
    name: &str,
    dialects: &mut Dialects,
) -> Result<Map<String, Value>, ScimError> {
    if obj.len() > limits::MAX_OBJECT_MEMBERS {
        return Err(ScimError::too_many(format!(
            "\"{name}\" has {} sub-attributes; the limit (MAX_OBJECT_MEMBERS) is {}.",
            obj.len(),
            limits::MAX_OBJECT_MEMBERS
        )));
    }
    let mut out = Map::new();
    for (k, v) in obj {
        let Some(sub) = def.sub(&k) else { continue };
        if sub.mutability == Mutability::ReadOnly || v.is_null() {
            continue;
        }
        let v = coerce(sub, v, &format!("{name}.{}", sub.name), dialects)?;
        out.insert(sub.name.to_owned(), v);
    }
    Ok(out)
}

/// RFC 7643 §2.4: `primary: true` appears at most once; the first one wins.
pub(crate) fn normalise_primary(values: &mut [Value]) {
    let mut seen = false;
    for v in values.iter_mut() {
        if let Some(p) = v.as_object_mut().and_then(|o| o.get_mut("primary"))
            && *p == Value::Bool(true)
        {
            if seen {
                *p = Value::Bool(false);
            }
            seen = true;
        }
    }
}

/// A short description of a JSON value for error messages, never echoing long input.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() <= 40 => format!("the string \"{s}\""),
        Value::String(_) => "a long string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::USER;
    use serde_json::json;

    fn def(name: &str) -> &'static AttributeDef {
        USER.attribute(None, name)
            .map(|l| l.def)
            .unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn string_booleans_are_strictly_true_or_false() {
        let mut d = Dialects::default();
        assert_eq!(
            coerce(def("active"), json!("False"), "active", &mut d),
            Ok(json!(false))
        );
        assert_eq!(d.0, vec![Dialect::StringBoolean]);
        for bad in [json!("false"), json!("yes"), json!(1), json!("TRUE")] {
            let e = coerce(def("active"), bad, "active", &mut d);
            assert_eq!(
                e.err().map(|e| e.scim_type),
                Some(Some(crate::ScimType::InvalidValue))
            );
        }
    }

    #[test]
    fn complex_values_are_canonicalised() {
        let mut d = Dialects::default();
        let v = coerce(
            def("emails"),
            json!([{"VALUE": "a@x", "Primary": "True", "bogus": 1}, {"value": "b@x", "primary": true}]),
            "emails",
            &mut d,
        );
        assert_eq!(
            v,
            Ok(json!([{"value": "a@x", "primary": true}, {"value": "b@x", "primary": false}]))
        );
        let e = coerce(def("emails"), json!([{"value": 5}]), "emails", &mut d);
        assert_eq!(
            e.err().map(|e| e.detail).as_deref(),
            Some("\"emails.value\" must be a string, not 5.")
        );
    }
}
