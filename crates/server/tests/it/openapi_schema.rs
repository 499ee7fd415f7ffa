//! A small validator of real answers against the platform API's OpenAPI 3.1 document (its schemas are JSON
//! Schema 2020-12, the part utoipa writes): `$ref` (to anywhere in the document), `type` (one or a list,
//! `null` included), `enum`, `properties` with `required` and no property the schema does not list (unless
//! `additionalProperties` allows it), `items`, `oneOf`/`anyOf`/`allOf`, `format: date-time`,
//! `minimum`/`maximum`, `maxLength`. An answer is looked up by path template, method and status: a status the
//! operation does not document fails, and so does a documented header the answer lacks.

use crate::scim_client::Reply;
use serde_json::Value;

pub struct Document(pub Value);

impl Document {
    /// `v`, or what its `$ref` points to (a dangling reference fails the test).
    pub fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        while let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{r}: not a reference into the document"));
            v = self
                .0
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{r}: a reference to nothing"));
        }
        v
    }

    /// The operation at `template` and `method` (lower case, as in the document).
    pub fn operation(&self, template: &str, method: &str) -> &Value {
        let op = &self.0["paths"][template][method];
        assert!(op.is_object(), "{method} {template} is not in the document");
        op
    }

    /// The errors of `value` against `schema` (empty: it conforms).
    pub fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(schema, value, "$", &mut errors);
        errors
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.validate(s, value, at, errors);
            }
        }
        for (key, wanted) in [("oneOf", Some(1)), ("anyOf", None)] {
            if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
                let matched = alternatives
                    .iter()
                    .filter(|s| self.errors(s, value).is_empty())
                    .count();
                if wanted.map_or(matched == 0, |n| matched != n) {
                    errors.push(format!("{at}: {matched} of the {key} alternatives match {value}"));
                }
            }
        }
        if let Some(t) = schema.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                other => panic!("{at}: a type that is not a name or a list: {other}"),
            };
            if !types.iter().any(|t| is_of_type(t, value)) {
                errors.push(format!("{at}: {value} is not of type {types:?}"));
                return;
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && !values.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {values:?}"));
        }
        match value {
            Value::Object(map) => {
                for name in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = name.as_str().unwrap();
                    if !map.contains_key(name) {
                        errors.push(format!("{at}: the required property {name:?} is missing"));
                    }
                }
                let properties = schema.get("properties").and_then(Value::as_object);
                let additional = schema.get("additionalProperties");
                for (name, v) in map {
                    let at = format!("{at}.{name}");
                    match (properties.and_then(|p| p.get(name)), additional) {
                        (Some(s), _) => self.validate(s, v, &at, errors),
                        (None, Some(Value::Bool(false))) => {
                            errors.push(format!("{at}: a property the schema does not allow"));
                        }
                        (None, Some(Value::Bool(true))) => {}
                        (None, Some(s)) => self.validate(s, v, &at, errors),
                        // A schema that lists its properties lists all of them; one that lists none (an
                        // event's `data`) is any object.
                        (None, None) if properties.is_some() => {
                            errors.push(format!("{at}: a property the document does not list"));
                        }
                        (None, None) => {}
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.validate(item, v, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            Value::String(s) => {
                if schema.get("format").and_then(Value::as_str) == Some("date-time")
                    && chrono::DateTime::parse_from_rfc3339(s).is_err()
                {
                    errors.push(format!("{at}: {s:?} is not an RFC 3339 date-time"));
                }
                if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                    && s.chars().count() as u64 > max
                {
                    errors.push(format!("{at}: longer than {max}"));
                }
            }
            Value::Number(n) => {
                let n = n.as_f64().unwrap();
                if schema
                    .get("minimum")
                    .and_then(Value::as_f64)
                    .is_some_and(|min| n < min)
                {
                    errors.push(format!("{at}: {n} is below the minimum"));
                }
                if schema
                    .get("maximum")
                    .and_then(Value::as_f64)
                    .is_some_and(|max| n > max)
                {
                    errors.push(format!("{at}: {n} is above the maximum"));
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Checks a real answer of `method template` against the document: its status is documented, its body
    /// conforms to that status's JSON schema, and it carries the headers documented for it.
    pub fn check(&self, template: &str, method: &str, reply: &Reply) {
        let what = format!("{method} {template} answered {}", reply.status);
        let response = self.resolve(
            self.operation(template, method)["responses"]
                .get(reply.status.to_string())
                .unwrap_or_else(|| panic!("{what}, a status the document does not list: {}", reply.body)),
        );
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{what}: the document gives no JSON schema for it"
        );
        assert!(
            reply
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{what}: {:?}",
            reply.header("content-type")
        );
        let errors = self.errors(schema, &reply.json());
        assert!(
            errors.is_empty(),
            "{what}, not as documented: {errors:#?}\n{}",
            reply.body
        );
        for (name, header) in response
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let value = reply
                .header(name)
                .unwrap_or_else(|| panic!("{what}: without the documented header {name}"));
            let errors = self.errors(&header["schema"], &header_value(value));
            assert!(errors.is_empty(), "{what}: header {name}: {errors:?}");
        }
    }
}

fn is_of_type(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        other => panic!("an unknown JSON Schema type {other:?}"),
    }
}

/// A header's value as the JSON its schema describes: a number if it reads as one.
fn header_value(raw: &str) -> Value {
    raw.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(raw.to_owned()))
}
