//! Custom attributes: what an org (or the whole deployment) declares under ONE User schema extension,
//! [`CUSTOM_USER_URN`]. Unlike the RFC 7643 schemas these are data, not code: [`CustomSchema`] is loaded from
//! the store per request, published in `/Schemas` ([`CustomSchema::schema_json`]), enforced on every write
//! ([`CustomSchema::apply`]) and consulted by filter resolution ([`crate::filter::resolve::resolve_with`]).
//!
//! The URN follows the pattern both IdPs expect of a custom extension,
//! `urn:ietf:params:scim:schemas:extension:<name>:2.0:User`:
//! - Microsoft Entra ID's attribute mapping names a custom target attribute by its full path, the extension
//!   URN, `:` and the attribute (`urn:ietf:params:scim:schemas:extension:scimd:2.0:User:costCenter`), and only
//!   single-valued, non-complex custom attributes are supported there (Entra docs, "Provisioning a custom
//!   extension attribute to a SCIM compliant application"; Microsoft Q&A 1656815). Entra sends that path in
//!   PATCH, which the PATCH engine already accepts for a known extension.
//! - Okta reads `/Schemas` when the app has schema discovery ("Import User Schema"); otherwise the admin adds
//!   the attribute in the Profile Editor with "External name" = the attribute and "External namespace" = this
//!   URN (Okta support, "Create a custom app attribute ... that does not support schema discovery").
//!
//! One fixed URN rather than one per org, so that a documented mapping works for every org of a deployment.

use super::SchemaDef;
use super::attribute::{AttrType, AttributeDef};
use crate::error::ScimError;
use crate::json::get_ci;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The custom attributes' extension URN.
pub const CUSTOM_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:scimd:2.0:User";

/// The extension as a static schema with no static attributes: it makes the User resource type know the
/// URN (PATCH paths, projection, documents keep it), while the attributes come from [`CustomSchema`].
pub static CUSTOM_USER_SCHEMA: SchemaDef = SchemaDef {
    id: CUSTOM_USER_URN,
    name: "CustomUser",
    description: "Attributes this organization declared for its users",
    attributes: &[],
};

/// The most attributes one org may declare (its own plus the deployment's).
pub const MAX_ATTRIBUTES: usize = 100;
/// The most values of one multi-valued attribute.
pub const MAX_VALUES: usize = 100;
/// The longest string value, in characters.
pub const MAX_STRING_CHARS: usize = 1024;
/// The longest attribute name.
pub const MAX_NAME_CHARS: usize = 64;

/// The types a custom attribute may have (RFC 7643 §2.3 less `binary` and `complex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomType {
    String,
    Boolean,
    Integer,
    Decimal,
    DateTime,
    Reference,
}

impl CustomType {
    /// Every type, in the order the CLI and the admin page list them.
    pub const ALL: [CustomType; 6] = [
        Self::String,
        Self::Boolean,
        Self::Integer,
        Self::Decimal,
        Self::DateTime,
        Self::Reference,
    ];

    /// The SCIM type.
    pub const fn attr_type(self) -> AttrType {
        match self {
            Self::String => AttrType::String,
            Self::Boolean => AttrType::Boolean,
            Self::Integer => AttrType::Integer,
            Self::Decimal => AttrType::Decimal,
            Self::DateTime => AttrType::DateTime,
            Self::Reference => AttrType::Reference,
        }
    }

    /// The name in `/Schemas` and in the store: `string`, `dateTime`, ...
    pub const fn as_str(self) -> &'static str {
        self.attr_type().as_str()
    }

    /// Parses a type name, case-insensitively (`datetime` is `dateTime`).
    pub fn parse(s: &str) -> Option<CustomType> {
        Self::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    /// A stand-in definition of this type for filter resolution, whose resolved attributes point at a
    /// `&'static AttributeDef`: only its type is read there (name, multiplicity and case come from the
    /// declaration, in the resolved attribute's own fields).
    pub(crate) fn stand_in(self) -> &'static AttributeDef {
        static STAND_INS: [AttributeDef; 6] = [
            AttributeDef::new("value", AttrType::String, "custom"),
            AttributeDef::new("value", AttrType::Boolean, "custom"),
            AttributeDef::new("value", AttrType::Integer, "custom"),
            AttributeDef::new("value", AttrType::Decimal, "custom"),
            AttributeDef::new("value", AttrType::DateTime, "custom"),
            AttributeDef::new("value", AttrType::Reference, "custom"),
        ];
        let i = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        &STAND_INS[i]
    }
}

/// Whether `name` is a valid attribute name (RFC 7643 §2.1: `ALPHA *(nameChar)`), at most
/// [`MAX_NAME_CHARS`] long.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_CHARS
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One declared attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAttr {
    /// Its canonical spelling (names match case-insensitively).
    pub name: String,
    pub ty: CustomType,
    pub multi_valued: bool,
    /// Whether string values compare with case (for `string` and `reference`).
    pub case_exact: bool,
    /// Whether filters may name it (its values are then kept in an index).
    pub filterable: bool,
}

impl CustomAttr {
    /// The full path: the extension URN, `:`, the name.
    pub fn path(&self) -> String {
        format!("{CUSTOM_USER_URN}:{}", self.name)
    }

    /// The RFC 7643 §7 attribute definition published in `/Schemas`.
    pub fn to_schema_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.ty.as_str()));
        m.insert("multiValued".into(), json!(self.multi_valued));
        let filter_note = if self.filterable { " Filterable." } else { "" };
        m.insert(
            "description".into(),
            json!(format!("Custom attribute \"{}\".{filter_note}", self.name)),
        );
        m.insert("required".into(), json!(false));
        m.insert("caseExact".into(), json!(self.case_exact));
        m.insert("mutability".into(), json!("readWrite"));
        m.insert("returned".into(), json!("default"));
        m.insert("uniqueness".into(), json!("none"));
        if self.ty == CustomType::Reference {
            m.insert("referenceTypes".into(), json!(["external", "uri"]));
        }
        Value::Object(m)
    }
}

/// A value kept in the filter index: typed and normalised, so that a comparison is an index range.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexValue {
    /// Strings and references (lower-cased unless case-exact), booleans as `true` / `false`.
    Text(String),
    Integer(i64),
    Decimal(f64),
    DateTime(DateTime<Utc>),
}

/// One indexed value of a filterable attribute: the attribute's lower-cased name, the value's position.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedValue {
    pub attribute: String,
    pub position: i32,
    pub value: IndexValue,
}

/// The attributes an org may use: its own and the deployment's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomSchema {
    pub attrs: Vec<CustomAttr>,
}

impl CustomSchema {
    pub fn new(attrs: Vec<CustomAttr>) -> Self {
        Self { attrs }
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    /// The attribute of that name, matched case-insensitively.
    pub fn find(&self, name: &str) -> Option<&CustomAttr> {
        self.attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The extension's schema document (RFC 7643 §7).
    pub fn schema_json(&self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self.attrs.iter().map(CustomAttr::to_schema_json).collect();
        json!({
            "schemas": [crate::discovery::SCHEMA_URN],
            "id": CUSTOM_USER_URN,
            "name": CUSTOM_USER_SCHEMA.name,
            "description": CUSTOM_USER_SCHEMA.description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{CUSTOM_USER_URN}", base_url.trim_end_matches('/')),
            },
        })
    }

    /// Validates and canonicalises the extension object of a User document in place: every declared
    /// attribute must have its type (400 `invalidValue` naming it), names take their declared spelling,
    /// `"True"`-style booleans and numeric strings (Entra sends strings) become JSON values, a single value
    /// of a multi-valued attribute becomes an array, nulls and empty arrays are removed. Undeclared
    /// attributes are kept verbatim, as for any extension. Returns the values of the filterable attributes,
    /// for the index.
    pub fn apply(&self, doc: &mut Value) -> Result<Vec<IndexedValue>, ScimError> {
        let Some(root) = doc.as_object_mut() else {
            return Ok(Vec::new());
        };
        let Some(key) = root
            .keys()
            .find(|k| k.eq_ignore_ascii_case(CUSTOM_USER_URN))
            .cloned()
        else {
            return Ok(Vec::new());
        };
        let Some(Value::Object(input)) = root.remove(&key) else {
            return Err(ScimError::invalid_value(format!(
                "\"{CUSTOM_USER_URN}\" must be an object."
            )));
        };
        let mut out = Map::new();
        let mut index = Vec::new();
        for (k, v) in input {
            let Some(def) = self.find(&k) else {
                out.insert(k, v);
                continue;
            };
            let values = match (def.multi_valued, v) {
                (_, Value::Null) => continue,
                (true, Value::Array(items)) => items,
                (true, single) => vec![single],
                (false, Value::Array(_)) => {
                    return Err(ScimError::invalid_value(format!(
                        "\"{}\" is single-valued: send one value, not an array.",
                        def.path()
                    )));
                }
                (false, single) => vec![single],
            };
            if values.len() > MAX_VALUES {
                return Err(ScimError::invalid_value(format!(
                    "\"{}\" has more than {MAX_VALUES} values.",
                    def.path()
                )));
            }
            let mut canon = Vec::with_capacity(values.len());
            for item in values.into_iter().filter(|v| !v.is_null()) {
                let (json, iv) = typed(def, item)?;
                if def.filterable {
                    index.push(IndexedValue {
                        attribute: def.name.to_ascii_lowercase(),
                        position: i32::try_from(canon.len()).unwrap_or(i32::MAX),
                        value: iv,
                    });
                }
                canon.push(json);
            }
            match (def.multi_valued, canon.len()) {
                (_, 0) => {}
                (true, _) => {
                    out.insert(def.name.clone(), Value::Array(canon));
                }
                (false, _) => {
                    if let Some(v) = canon.pop() {
                        out.insert(def.name.clone(), v);
                    }
                }
            }
        }
        if !out.is_empty() {
            root.insert(CUSTOM_USER_URN.to_owned(), Value::Object(out));
        }
        Ok(index)
    }

    /// The declared attributes present in a stored document, for the platform's views: an object keyed by
    /// attribute name (empty when there are none).
    pub fn values_of(doc: &Value) -> Value {
        match doc.as_object().and_then(|o| get_ci(o, CUSTOM_USER_URN)) {
            Some(Value::Object(o)) => Value::Object(o.clone()),
            _ => Value::Object(Map::new()),
        }
    }
}

/// One value checked against its declaration: the JSON to store and the indexed form.
fn typed(def: &CustomAttr, v: Value) -> Result<(Value, IndexValue), ScimError> {
    let wrong = |v: &Value, what: &str| {
        ScimError::invalid_value(format!(
            "\"{}\" must be {what}, not {}.",
            def.path(),
            crate::values::describe(v)
        ))
    };
    match def.ty {
        CustomType::String | CustomType::Reference => {
            let Value::String(s) = &v else {
                return Err(wrong(&v, "a string"));
            };
            if s.chars().count() > MAX_STRING_CHARS {
                return Err(ScimError::invalid_value(format!(
                    "\"{}\" is longer than {MAX_STRING_CHARS} characters.",
                    def.path()
                )));
            }
            if def.ty == CustomType::Reference && (s.trim().is_empty() || s.chars().any(char::is_whitespace))
            {
                return Err(wrong(&v, "a URI"));
            }
            let norm = if def.case_exact {
                s.clone()
            } else {
                s.to_lowercase()
            };
            Ok((v, IndexValue::Text(norm)))
        }
        CustomType::Boolean => {
            let b = match &v {
                Value::Bool(b) => *b,
                Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err(wrong(&v, "a boolean")),
            };
            Ok((Value::Bool(b), IndexValue::Text(b.to_string())))
        }
        CustomType::Integer => {
            let n = match &v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            let n = n.ok_or_else(|| wrong(&v, "an integer"))?;
            Ok((Value::from(n), IndexValue::Integer(n)))
        }
        CustomType::Decimal => {
            let n = match &v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            let n = n
                .filter(|n| n.is_finite())
                .ok_or_else(|| wrong(&v, "a decimal number"))?;
            let json = serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number);
            Ok((json, IndexValue::Decimal(n)))
        }
        CustomType::DateTime => {
            let t = v
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| wrong(&v, "a dateTime with a time zone (RFC 3339)"))?;
            Ok((v, IndexValue::DateTime(t.with_timezone(&Utc))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> CustomSchema {
        let a = |name: &str, ty, multi_valued, filterable| CustomAttr {
            name: name.into(),
            ty,
            multi_valued,
            case_exact: false,
            filterable,
        };
        CustomSchema::new(vec![
            a("costCenter", CustomType::String, false, true),
            a("clearance", CustomType::Integer, false, true),
            a("contractor", CustomType::Boolean, false, false),
            a("badges", CustomType::String, true, true),
            a("hiredAt", CustomType::DateTime, false, false),
        ])
    }

    #[test]
    fn values_are_typed_and_canonicalised() {
        let mut doc = json!({"userName": "a", CUSTOM_USER_URN.to_lowercase(): {
            "COSTCENTER": "CC-1", "clearance": "3", "contractor": "False", "badges": "Blue", "other": [1]
        }});
        let index = schema().apply(&mut doc).unwrap();
        assert_eq!(
            doc[CUSTOM_USER_URN],
            json!({"costCenter": "CC-1", "clearance": 3, "contractor": false, "badges": ["Blue"], "other": [1]})
        );
        let of = |name: &str| {
            index
                .iter()
                .filter(|i| i.attribute == name)
                .map(|i| (i.position, i.value.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(index.len(), 3, "contractor is not filterable");
        assert_eq!(of("costcenter"), [(0, IndexValue::Text("cc-1".into()))]);
        assert_eq!(of("clearance"), [(0, IndexValue::Integer(3))]);
        assert_eq!(of("badges"), [(0, IndexValue::Text("blue".into()))]);
    }

    #[test]
    fn a_wrong_type_names_the_attribute() {
        for body in [
            json!({"clearance": "high"}),
            json!({"contractor": 3}),
            json!({"costCenter": ["a", "b"]}),
            json!({"hiredAt": "yesterday"}),
        ] {
            let mut doc = json!({ CUSTOM_USER_URN: body });
            let e = schema().apply(&mut doc).unwrap_err();
            assert_eq!(e.scim_type, Some(crate::ScimType::InvalidValue));
            assert!(e.detail.contains(CUSTOM_USER_URN), "{}", e.detail);
        }
    }

    #[test]
    fn names_follow_rfc_7643() {
        assert!(valid_name("costCenter"));
        assert!(valid_name("a-b_c1"));
        assert!(!valid_name("1abc"));
        assert!(!valid_name("a.b"));
        assert!(!valid_name(""));
        assert_eq!(CustomType::parse("datetime"), Some(CustomType::DateTime));
        assert_eq!(CustomType::parse("binary"), None);
    }
}
