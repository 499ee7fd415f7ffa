//! The IdP's lookup (`userName eq "..."`, first page, default order) has a path of its own in
//! `users::list`, a statement of static type that stays prepared (issue #27). It must answer exactly what the
//! general filter path answers: the same Users for every spelling of the name, none of another org, none
//! deleted, none the org invited that SCIM does not manage, and the same total.

use crate::fixtures;
use scimd_scim::filter;
use scimd_scim::schema::USER;
use scimd_store::provisioning::paging::Paging;
use scimd_store::provisioning::{ListSpec, WriteCtx, users};
use scimd_store::testing::TestDb;
use scimd_store::{OrgId, Store};

fn ctx(org: &OrgId) -> WriteCtx {
    WriteCtx {
        org: org.clone(),
        actor: "idp:test".into(),
        now: fixtures::now(),
    }
}

fn create(store: &Store, org: &OrgId, user_name: &str) -> String {
    let (org, doc) = (org.clone(), fixtures::scim_user(user_name));
    store
        .write_owned(move |conn| users::create(conn, &ctx(&org), &doc, &[]))
        .unwrap()
        .user
        .row
        .id
}

/// (total, ids) of a page of `count` of the org's Users matching `f`, with their groups.
fn page(store: &Store, org: &OrgId, f: &str, count: u64) -> (u64, Vec<String>) {
    let resolved = filter::resolve(&filter::parse(f).unwrap(), &USER).unwrap();
    let spec = ListSpec {
        filter: Some(&resolved),
        sort: None,
        descending: false,
        paging: Paging::Index { start_index: 1 },
        count,
    };
    let page = store
        .read_consistent(|conn| users::list(conn, store.backend(), org, &spec, true))
        .unwrap();
    (page.total, page.items.into_iter().map(|u| u.row.id).collect())
}

fn the_lookup_answers_what_the_filter_answers(db: &TestDb) {
    let store = &db.store;
    let (org, other) = (
        fixtures::new_org(store, "Lookups"),
        fixtures::new_org(store, "Other"),
    );
    let ada = create(store, &org, "ada@lookup.example");
    let accented = create(store, &org, "Zoë@lookup.example");
    let theirs = create(store, &other, "only.theirs@lookup.example");
    let gone = create(store, &org, "gone@lookup.example");
    {
        let (org, gone) = (org.clone(), gone.clone());
        store
            .write_owned(move |conn| users::delete(conn, &ctx(&org), &gone, None))
            .unwrap();
    }
    store
        .write(|conn| fixtures::invited(conn, &org, "invited@lookup.example").map(drop))
        .unwrap();
    let cases: &[(&str, Option<&String>)] = &[
        ("ada@lookup.example", Some(&ada)),
        ("ADA@Lookup.Example", Some(&ada)),
        // Decomposed (e + combining diaeresis) and upper-cased: the same normalised name.
        ("ZOE\u{308}@LOOKUP.EXAMPLE", Some(&accented)),
        ("nobody@lookup.example", None),
        ("only.theirs@lookup.example", None),
        ("gone@lookup.example", None),
        ("invited@lookup.example", None),
    ];
    for (name, expected) in cases {
        let lookup = format!(r#"userName eq "{}""#, name.replace('"', "\\\""));
        // The same comparison twice: a filter of two comparisons, which takes the general path.
        let general = format!("{lookup} and {lookup}");
        let expected: Vec<String> = expected.iter().map(|id| (*id).clone()).collect();
        for count in [1, 100] {
            assert_eq!(
                page(store, &org, &lookup, count),
                (expected.len() as u64, expected.clone()),
                "{name}, count {count}"
            );
            assert_eq!(
                page(store, &org, &lookup, count),
                page(store, &org, &general, count),
                "{name}"
            );
        }
        // `count=0` asks for the total only: the general path counts it.
        assert_eq!(
            page(store, &org, &lookup, 0),
            (expected.len() as u64, vec![]),
            "{name}"
        );
    }
    assert_eq!(
        page(store, &other, r#"userName eq "only.theirs@lookup.example""#, 10).1,
        [theirs]
    );
}

scimd_store::backend_tests!(the_lookup_answers_what_the_filter_answers);
