//! RFC 7644 §3.4.2.2: every example filter, parsed, resolved against the User schema and evaluated on the
//! RFC's Barbara Jensen; then the error cases.

use crate::common::bjensen;
use scimd_scim::filter::{self, CompValue, CompareOp, Filter, TypedValue, in_memory};
use scimd_scim::schema::{AttrType, GROUP, USER};
use scimd_scim::{AttrPath, ResolvedFilter, ScimType};

fn eval(text: &str) -> bool {
    let parsed = filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let resolved = filter::resolve(&parsed, &USER).unwrap_or_else(|e| panic!("{text}: {e}"));
    // Rendering gives back a filter that parses to the same AST.
    assert_eq!(filter::parse(&parsed.to_string()), Ok(parsed), "{text}");
    in_memory::matches(&resolved, &bjensen())
}

fn paths(text: &str) -> Vec<String> {
    let parsed = filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let resolved = filter::resolve(&parsed, &USER).unwrap_or_else(|e| panic!("{text}: {e}"));
    resolved.leaves().into_iter().map(|l| l.path.clone()).collect()
}

#[test]
fn user_name_eq() {
    assert!(eval(r#"userName eq "bjensen@example.com""#));
    assert!(
        eval(r#"USERNAME EQ "BJensen@Example.com""#),
        "userName is not caseExact"
    );
    assert!(!eval(r#"userName eq "bjensen""#));
    let f = filter::parse(r#"userName eq "bjensen""#);
    assert_eq!(
        f,
        Ok(Filter::Compare {
            path: AttrPath::new("userName"),
            op: CompareOp::Eq,
            value: CompValue::Str("bjensen".into())
        })
    );
}

#[test]
fn family_name_contains_with_apostrophe() {
    assert!(!eval(r#"name.familyName co "O'Malley""#));
    assert!(eval(r#"name.familyName co "ens""#));
    assert_eq!(paths(r#"name.familyName co "O'Malley""#), ["name.familyName"]);
}

#[test]
fn starts_with_plain_and_urn_qualified() {
    assert!(!eval(r#"userName sw "J""#));
    assert!(eval(r#"userName sw "b""#));
    assert!(eval(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "B""#
    ));
    assert_eq!(
        paths(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#),
        ["userName"]
    );
}

#[test]
fn present() {
    assert!(eval("title pr"));
    assert!(eval("name pr"));
    assert!(!eval("photos pr"));
    assert!(eval(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName pr"
    ));
}

#[test]
fn date_time_comparisons() {
    assert!(!eval(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#));
    assert!(eval(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#));
    assert!(!eval(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#));
    assert!(eval(r#"meta.lastModified le "2011-05-13T04:42:34Z""#));
    assert!(
        eval(r#"meta.lastModified gt "2011-05-13T06:42:33+02:00""#),
        "compared as instants"
    );
    let f = filter::parse(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#)
        .and_then(|f| filter::resolve(&f, &USER));
    let Ok(ResolvedFilter::Compare {
        attr,
        value: TypedValue::DateTime(_),
        ..
    }) = f
    else {
        panic!("{f:?}")
    };
    assert_eq!(
        (attr.path.as_str(), attr.ty),
        ("meta.lastModified", AttrType::DateTime)
    );
}

#[test]
fn logical_operators() {
    assert!(eval(r#"title pr and userType eq "Employee""#));
    assert!(eval(r#"title pr or userType eq "Intern""#));
    assert!(!eval(r#"title pr and userType eq "Intern""#));
}

#[test]
fn schemas_eq_extension_urn() {
    assert!(eval(
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#
    ));
}

#[test]
fn grouping_and_implicit_value() {
    let f = r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#;
    assert!(eval(f));
    assert_eq!(paths(f), ["userType", "emails.value", "emails.value"]);
    let f = r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#;
    assert!(!eval(f));
    assert!(eval(r#"userType eq "Employee" and (emails.type eq "work")"#));
}

#[test]
fn value_paths() {
    let f = r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#;
    assert!(eval(f));
    assert_eq!(paths(f), ["userType", "emails.type", "emails.value"]);
    // Both conditions must hold for the same value: the home address is not at example.com.
    assert!(!eval(r#"emails[type eq "home" and value co "@example.com"]"#));
    let f = r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#;
    assert!(eval(f));
    assert_eq!(paths(f), ["emails.type", "emails.value", "ims.type", "ims.value"]);
}

#[test]
fn extension_attributes() {
    let f = r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#;
    assert!(eval(f));
    assert_eq!(
        paths(f),
        ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"]
    );
    let f = r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#;
    assert!(eval(f));
}

#[test]
fn case_exact_attributes_compare_exactly() {
    assert!(eval(r#"externalId eq "701984""#));
    assert!(eval(r#"id eq "2819c223-7f76-453a-919d-413861904646""#));
    assert!(
        !eval(r#"id eq "2819C223-7F76-453A-919D-413861904646""#),
        "id is caseExact"
    );
}

#[test]
fn literals() {
    assert!(eval("active eq true"));
    assert!(!eval("active eq false"));
    assert!(eval("active ne false"));
    assert!(eval("nickName ne null"));
    assert!(eval("x509Certificates.display eq null"));
    assert!(!eval("name.honorificPrefix eq null"));
}

fn error_of(text: &str) -> (Option<ScimType>, String) {
    let e = filter::parse(text).and_then(|f| filter::resolve(&f, &USER)).err();
    let e = e.unwrap_or_else(|| panic!("{text} should fail"));
    (e.scim_type, e.detail)
}

#[test]
fn wrong_operator_for_type_is_invalid_filter() {
    let (t, d) = error_of("active gt true");
    assert_eq!(t, Some(ScimType::InvalidFilter));
    assert_eq!(
        d,
        "The \"gt\" operator cannot be used with \"active\", a boolean attribute."
    );
    assert_eq!(error_of(r#"active co "t""#).0, Some(ScimType::InvalidFilter));
    assert_eq!(
        error_of(r#"x509Certificates.value gt "a""#).0,
        Some(ScimType::InvalidFilter)
    );
    assert_eq!(
        error_of(r#"meta.lastModified sw "2011""#).0,
        Some(ScimType::InvalidFilter)
    );
    assert_eq!(error_of(r#"userName gt null"#).0, Some(ScimType::InvalidFilter));
}

#[test]
fn wrong_operand_type_is_invalid_filter() {
    let (_, d) = error_of(r#"active eq "true""#);
    assert_eq!(
        d,
        "\"active\" is a boolean attribute and cannot be compared with \"true\"."
    );
    assert!(error_of("userName eq 42").1.contains("string attribute"));
    assert!(
        error_of(r#"meta.created gt "yesterday""#)
            .1
            .contains("2011-05-13T04:42:34Z")
    );
}

#[test]
fn unknown_attributes_are_invalid_filter_never_dropped() {
    let (t, d) = error_of(r#"userName eq "a" and favouriteColour eq "blue""#);
    assert_eq!(t, Some(ScimType::InvalidFilter));
    assert_eq!(
        d,
        "\"favouriteColour\" is not an attribute of the User resource type."
    );
    assert!(error_of(r#"name.nickname eq "x""#).1.contains("no sub-attribute"));
    assert!(
        error_of(r#"urn:example:ext:1.0:User:x eq "x""#)
            .1
            .contains("is not a schema")
    );
    assert!(
        error_of(r#"emails[primary eq true and kind eq "x"]"#)
            .1
            .contains("not a sub-attribute")
    );
    assert!(error_of(r#"name eq "x""#).1.contains("complex attribute"));
    assert!(error_of(r#"userName[value pr]"#).1.contains("not one"));
    let e = filter::parse(r#"userName eq "x""#).and_then(|f| filter::resolve(&f, &GROUP));
    assert_eq!(e.err().and_then(|e| e.scim_type), Some(ScimType::InvalidFilter));
}

#[test]
fn entra_unquoted_guid() {
    let f = filter::parse("externalId eq 8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
    assert_eq!(
        f.map(|f| f.to_string()).as_deref(),
        Ok(r#"externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159""#)
    );
}
