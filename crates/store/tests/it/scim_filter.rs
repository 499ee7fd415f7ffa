//! The filter translation agrees with the protocol crate's in-memory reference semantics on both backends:
//! each filter selects, through SQL, exactly the users the reference selects from their documents. Also: the
//! tenant predicate holds whatever the filter, paging is stable and exact, cursors walk every row once.

use crate::fixtures;
use scimd_scim::filter::{self, in_memory};
use scimd_scim::list::SortOrder;
use scimd_scim::schema::USER;
use scimd_store::provisioning::paging::{self, Paging, Position};
use scimd_store::provisioning::{ListSpec, WriteCtx, users};
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, Store};
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

fn docs() -> Vec<Value> {
    vec![
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Bjensen@Example.com",
               "externalId": "ext-1", "displayName": "Babs Jensen", "active": true,
               "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
               "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                          {"value": "babs@home.example", "type": "home"}],
               "title": "Tour 50%_Guide"}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jsmith@example.com",
               "externalId": "EXT-1", "active": false, "name": {"givenName": "John"},
               "emails": [{"value": "john@work.example", "type": "work"}], "title": "Tour 50 Guide",
               ENTERPRISE: {"employeeNumber": "42", "manager": {"value": "m-1"}, "department": "Sales"}}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@example.org",
               "displayName": "Ada", "nickName": "a_da", "userType": "Employee",
               ENTERPRISE: {"department": "R&D"}}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "zed@example.org",
               "emails": [{"value": "ZED@EXAMPLE.ORG", "type": "other"}], "active": true}),
    ]
}

const FILTERS: &[&str] = &[
    r#"userName eq "BJENSEN@example.com""#,
    r#"userName sw "J""#,
    r#"userName ew ".org""#,
    r#"userName co "@example.""#,
    r#"userName gt "b""#,
    r#"externalId eq "ext-1""#,
    r#"externalId co "EXT""#,
    r#"externalId ne "ext-1""#,
    r#"externalId pr"#,
    r#"not (externalId pr)"#,
    r#"displayName eq "babs jensen""#,
    r#"displayName eq null"#,
    r#"name.givenName sw "bar""#,
    r#"name.formatted co "barbara""#,
    r#"name pr"#,
    r#"active eq true"#,
    r#"active eq false"#,
    r#"active ne true"#,
    r#"emails.value co "EXAMPLE""#,
    r#"emails pr"#,
    r#"emails[type eq "work" and value ew "example.com"]"#,
    r#"emails[type eq "home"] or emails[type eq "other"]"#,
    r#"emails.type ne "work""#,
    r#"title co "50%_""#,
    r#"title co "0%""#,
    r#"title sw "tour 50_""#,
    r#"nickName co "_""#,
    r#"userType eq "employee""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m-1""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"(userName sw "a" or userName sw "z") and not (emails pr)"#,
    r#"not (not (active eq true))"#,
    r#"meta.resourceType eq "User""#,
];

fn spec<'a>(f: Option<&'a filter::ResolvedFilter>, count: u64, paging: Paging) -> ListSpec<'a> {
    ListSpec {
        filter: f,
        sort: None,
        descending: false,
        paging,
        count,
    }
}

fn ids(store: &Store, org: &OrgId, f: &str) -> Vec<String> {
    let resolved = filter::resolve(&filter::parse(f).unwrap(), &USER).unwrap();
    let backend = store.backend();
    let page = store
        .read_consistent(|conn| {
            users::list(
                conn,
                backend,
                org,
                &spec(Some(&resolved), 100, Paging::Index { start_index: 1 }),
                false,
            )
        })
        .unwrap();
    assert_eq!(page.total as usize, page.items.len(), "{f}");
    let mut v: Vec<String> = page.items.into_iter().map(|u| u.row.id).collect();
    v.sort();
    v
}

fn sql_matches_the_reference_semantics(db: &TestDb) {
    let store = &db.store;
    let (a, b) = store
        .write(|conn| Ok::<_, scimd_store::StoreError>((fixtures::org(conn, "A"), fixtures::org(conn, "B"))))
        .unwrap();
    let mut created = Vec::new();
    for doc in docs() {
        let c = store
            .write(|conn| users::create(conn, &ctx(&a), &doc, &[]))
            .unwrap();
        created.push(c.user);
    }
    // Org B holds a copy of everything: none of it may ever show up in A's results.
    for doc in docs() {
        store
            .write(|conn| users::create(conn, &ctx(&b), &doc, &[]))
            .unwrap();
    }
    for f in FILTERS {
        let resolved = filter::resolve(&filter::parse(f).unwrap(), &USER).unwrap();
        let mut expected: Vec<String> = created
            .iter()
            .filter(|u| {
                let mut full = u.doc.clone();
                full["id"] = json!(u.row.id);
                full["meta"] = json!({"resourceType": "User"});
                in_memory::matches(&resolved, &full)
            })
            .map(|u| u.row.id.clone())
            .collect();
        expected.sort();
        let got = ids(store, &a, f);
        let names = |v: &[String]| {
            created
                .iter()
                .filter(|u| v.contains(&u.row.id))
                .map(|u| u.row.user_name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            got,
            expected,
            "{} on {f}: got {:?} expected {:?}",
            db.conn_backend_name(),
            names(&got),
            names(&expected)
        );
    }
    assert_eq!(ids(store, &a, "userName pr or id pr").len(), 4);
}

fn paging_is_exact_stable_and_cursors_visit_every_row_once(db: &TestDb) {
    let store = &db.store;
    let org = fixtures::new_org(store, "A");
    for i in 0..25 {
        let doc = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                         "userName": format!("user{i:02}@example.com"), "displayName": format!("U {}", 24 - i)});
        store
            .write(|conn| users::create(conn, &ctx(&org), &doc, &[]))
            .unwrap();
    }
    let backend = store.backend();
    let page = |paging: Paging, count: u64| {
        store
            .read_consistent(|conn| users::list(conn, backend, &org, &spec(None, count, paging), false))
            .unwrap()
    };
    let p1 = page(Paging::Index { start_index: 1 }, 10);
    let p3 = page(Paging::Index { start_index: 21 }, 10);
    assert_eq!(
        (p1.total, p1.items.len(), p3.total, p3.items.len()),
        (25, 10, 25, 5)
    );
    assert_eq!(p3.items[0].row.user_name, "user20@example.com");
    assert_eq!(page(Paging::Index { start_index: 26 }, 10).items.len(), 0);
    assert_eq!(page(Paging::Index { start_index: 1 }, 0).total, 25);

    let fp = paging::fingerprint(&["", "7"]);
    let mut seen = Vec::new();
    let mut cursor = Paging::from_request(1, Some(""), fp.clone()).unwrap();
    loop {
        let p = page(cursor.clone(), 7);
        assert_eq!(p.total, 25);
        seen.extend(p.items.iter().map(|u| u.row.user_name.clone()));
        match p.next {
            Some(pos) => {
                assert!(matches!(pos, Position::AfterSeq(_)));
                cursor = Paging::from_request(1, Some(&paging::encode(pos, &fp)), fp.clone()).unwrap();
            }
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (25, 25));

    // sortBy displayName descending: "U 9" > "U 24" > ... (strings), ties broken by seq.
    let sort = scimd_scim::list::ListQuery::from_query_pairs([
        ("sortBy", "displayName"),
        ("sortOrder", "descending"),
    ])
    .unwrap();
    assert_eq!(sort.sort_order, SortOrder::Descending);
    let attr = sort.resolve_sort(&USER).unwrap().unwrap();
    let sorted_page = store
        .read_consistent(|conn| {
            users::list(
                conn,
                backend,
                &org,
                &ListSpec {
                    filter: None,
                    sort: Some(&attr),
                    descending: true,
                    paging: Paging::Index { start_index: 1 },
                    count: 3,
                },
                false,
            )
        })
        .unwrap();
    let names: Vec<_> = sorted_page
        .items
        .iter()
        .map(|u| u.row.display_name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["U 9", "U 8", "U 7"]);
}

scimd_store::backend_tests!(
    sql_matches_the_reference_semantics,
    paging_is_exact_stable_and_cursors_visit_every_row_once
);
