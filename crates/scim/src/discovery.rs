//! The discovery documents (RFC 7644 §4, RFC 7643 §5–§7): `/ServiceProviderConfig`, `/ResourceTypes` and
//! `/Schemas`, derived from the schema definitions in [`crate::schema`] so they always say what the rest
//! of the crate does.

use crate::list::{DEFAULT_COUNT, ListResponse, MAX_COUNT};
use crate::schema::{
    CUSTOM_USER_URN, CustomSchema, ResourceSchema, SchemaDef, all_schemas, resource_schemas,
};
use serde_json::{Value, json};

/// The ServiceProviderConfig schema URN.
pub const SERVICE_PROVIDER_CONFIG_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The ResourceType schema URN.
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The Schema schema URN.
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// What the service provider configuration advertises beyond what this crate fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLimits {
    /// `filter.maxResults`: the largest page served.
    pub max_results: u64,
    /// Whether RFC 9865 cursor pagination is offered.
    pub cursor_pagination: bool,
    /// A page documenting the service, if any.
    pub documentation_uri: Option<String>,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        Self {
            max_results: MAX_COUNT,
            cursor_pagination: false,
            documentation_uri: None,
        }
    }
}

fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// `GET /ServiceProviderConfig`: PATCH yes, bulk no, filter yes (with `maxResults`), changePassword no,
/// sort yes, ETags yes, OAuth bearer token authentication.
pub fn service_provider_config(base_url: &str, limits: &ServiceLimits) -> Value {
    let mut doc = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": limits.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "pagination": {
            "cursor": limits.cursor_pagination,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT.min(limits.max_results),
            "maxPageSize": limits.max_results,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the SCIM token generated in Organization Settings > SSO.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(base_url)),
        },
    });
    if let (Some(uri), Some(o)) = (&limits.documentation_uri, doc.as_object_mut()) {
        o.insert("documentationUri".into(), Value::String(uri.clone()));
    }
    doc
}

/// One resource type's representation (RFC 7643 §6). The custom attributes' extension is listed only when
/// the org has declared some (`custom`).
pub fn resource_type(base_url: &str, rt: &ResourceSchema, custom: &CustomSchema) -> Value {
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .filter(|e| e.schema.id != CUSTOM_USER_URN || !custom.is_empty())
        .map(|e| json!({"schema": e.schema.id, "required": e.required}))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.core.id,
        "schemaExtensions": extensions,
        "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/{}", base(base_url), rt.name)},
    })
}

/// `GET /ResourceTypes`: User and Group, as a ListResponse.
pub fn resource_types(base_url: &str, custom: &CustomSchema) -> Value {
    let all: Vec<Value> = resource_schemas()
        .into_iter()
        .map(|rt| resource_type(base_url, rt, custom))
        .collect();
    ListResponse::new(all.len() as u64, 1, all).to_value()
}

/// `GET /ResourceTypes/{name}`.
pub fn resource_type_by_name(base_url: &str, name: &str, custom: &CustomSchema) -> Option<Value> {
    resource_schemas()
        .into_iter()
        .find(|rt| rt.name.eq_ignore_ascii_case(name))
        .map(|rt| resource_type(base_url, rt, custom))
}

/// One schema's representation (RFC 7643 §7).
pub fn schema(base_url: &str, s: &SchemaDef) -> Value {
    let attributes: Vec<Value> = s.attributes.iter().map(|a| a.to_schema_json()).collect();
    json!({
        "schemas": [SCHEMA_URN],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{}", base(base_url), s.id)},
    })
}

/// `GET /Schemas`: User, Enterprise User and Group, and the org's custom attributes' extension when it
/// declared some, as a ListResponse.
pub fn schemas(base_url: &str, custom: &CustomSchema) -> Value {
    let mut all: Vec<Value> = all_schemas().into_iter().map(|s| schema(base_url, s)).collect();
    if !custom.is_empty() {
        all.push(custom.schema_json(base_url));
    }
    ListResponse::new(all.len() as u64, 1, all).to_value()
}

/// `GET /Schemas/{id}`.
pub fn schema_by_id(base_url: &str, id: &str, custom: &CustomSchema) -> Option<Value> {
    if id.eq_ignore_ascii_case(CUSTOM_USER_URN) {
        return (!custom.is_empty()).then(|| custom.schema_json(base_url));
    }
    all_schemas()
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(id))
        .map(|s| schema(base_url, s))
}
