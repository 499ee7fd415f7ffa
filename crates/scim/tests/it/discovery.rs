//! The discovery documents are derived from the schema definitions, so they agree with validation.

use scimd_scim::discovery::{self, ServiceLimits};
use scimd_scim::list::MAX_COUNT;
use serde_json::{Value, json};

fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == name))
        .unwrap()
}

#[test]
fn service_provider_config() {
    let spc = discovery::service_provider_config("https://h/scim/v2/", &ServiceLimits::default());
    assert_eq!(spc["patch"], json!({"supported": true}));
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"], json!({"supported": true, "maxResults": MAX_COUNT}));
    assert_eq!(spc["changePassword"]["supported"], false);
    assert_eq!(spc["sort"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(spc["meta"]["location"], "https://h/scim/v2/ServiceProviderConfig");
}

#[test]
fn resource_types() {
    let rts = discovery::resource_types("https://h/scim/v2", &Default::default());
    assert_eq!(rts["totalResults"], 2);
    let user = &rts["Resources"][0];
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], "urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(
        user["schemaExtensions"],
        json!([{"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}])
    );
    assert_eq!(rts["Resources"][1]["endpoint"], "/Groups");
    assert!(discovery::resource_type_by_name("https://h", "group", &Default::default()).is_some());
}

#[test]
fn schemas_document_says_what_validation_does() {
    let all = discovery::schemas("https://h/scim/v2", &Default::default());
    assert_eq!(all["totalResults"], 3);
    let user = discovery::schema_by_id(
        "https://h",
        "urn:ietf:params:scim:schemas:core:2.0:User",
        &Default::default(),
    )
    .unwrap();
    let user_name = attribute(&user, "userName");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(attribute(&user, "password")["returned"], "never");
    assert_eq!(attribute(&user, "groups")["mutability"], "readOnly");
    let emails = attribute(&user, "emails");
    assert_eq!(emails["multiValued"], true);
    assert_eq!(emails["subAttributes"].as_array().map(Vec::len), Some(4));
    assert!(
        user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["name"] != "id"),
        "common attributes are in no schema"
    );
    let group = discovery::schema_by_id(
        "https://h",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        &Default::default(),
    )
    .unwrap();
    assert_eq!(attribute(&group, "displayName")["required"], true);
    assert_eq!(
        group["meta"]["location"],
        "https://h/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"
    );
}
