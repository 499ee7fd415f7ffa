//! The PATCH request body (RFC 7644 §3.5.2): [`PatchRequest`] and [`PatchOperation`].

use crate::error::ScimError;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The URN of the PatchOp message.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A PATCH request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchRequest {
    /// Must contain [`PATCH_OP_URN`].
    #[serde(default)]
    pub schemas: Vec<String>,
    /// The operations, applied in order.
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<PatchOperation>,
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOperation {
    /// `add`, `remove` or `replace`, in any case.
    pub op: String,
    /// The attribute path; absent for a path-less operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value: `None` when absent, `Some(Value::Null)` when `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The kind of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `add`.
    Add,
    /// `remove`.
    Remove,
    /// `replace`.
    Replace,
}

impl OpKind {
    /// The keyword, lowercase.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }
}

impl PatchRequest {
    /// A request with the PatchOp schema and the given operations.
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        Self {
            schemas: vec![PATCH_OP_URN.to_owned()],
            operations,
        }
    }

    /// Parses a request body; malformed JSON or a wrong shape is `invalidSyntax`.
    pub fn from_slice(body: &[u8]) -> Result<Self, ScimError> {
        serde_json::from_slice(body).map_err(|e| {
            ScimError::invalid_syntax(format!("The PATCH body is not a valid PatchOp message: {e}."))
        })
    }

    /// Parses a request from a JSON value.
    pub fn from_value(body: Value) -> Result<Self, ScimError> {
        serde_json::from_value(body).map_err(|e| {
            ScimError::invalid_syntax(format!("The PATCH body is not a valid PatchOp message: {e}."))
        })
    }
}

impl PatchOperation {
    /// An operation from its parts.
    pub fn new(op: &str, path: Option<&str>, value: Option<Value>) -> Self {
        Self {
            op: op.to_owned(),
            path: path.map(str::to_owned),
            value,
        }
    }

    /// The operation kind, and whether it was spelled other than in lowercase.
    pub fn kind(&self) -> Result<(OpKind, bool), ScimError> {
        let kind = [OpKind::Add, OpKind::Remove, OpKind::Replace]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(&self.op))
            .ok_or_else(|| {
                ScimError::invalid_syntax(format!(
                    "\"{}\" is not a PATCH operation; use add, remove or replace.",
                    self.op.chars().take(40).collect::<String>()
                ))
            })?;
        Ok((kind, self.op != kind.as_str()))
    }
}
