//! Filter parsing: the lookup every IdP sends before a create, and a 20-clause filter.

use criterion::{Criterion, criterion_group, criterion_main};
use scimd_scim::filter;
use scimd_scim::schema::USER;
use std::hint::black_box;

const ENTRA_LOOKUP: &str = r#"userName eq "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081""#;

fn twenty_clauses() -> String {
    let mut clauses = Vec::new();
    for i in 0..5 {
        clauses.push(format!(r#"userName eq "user{i}@example.com""#));
        clauses.push(format!(
            r#"emails[type eq "work" and value co "@corp{i}.example.com"]"#
        ));
        clauses.push(format!(r#"name.familyName sw "Jen{i}""#));
        clauses.push(format!(r#"meta.lastModified gt "2011-05-13T04:42:3{i}Z""#));
    }
    clauses.join(" or ")
}

fn bench(c: &mut Criterion) {
    c.bench_function("filter/parse entra lookup", |b| {
        b.iter(|| filter::parse(black_box(ENTRA_LOOKUP)))
    });
    c.bench_function("filter/parse+resolve entra lookup", |b| {
        b.iter(|| filter::parse(black_box(ENTRA_LOOKUP)).and_then(|f| filter::resolve(&f, &USER)))
    });
    let twenty = twenty_clauses();
    c.bench_function("filter/parse 20 clauses", |b| {
        b.iter(|| filter::parse(black_box(&twenty)))
    });
    c.bench_function("filter/parse+resolve 20 clauses", |b| {
        b.iter(|| filter::parse(black_box(&twenty)).and_then(|f| filter::resolve(&f, &USER)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
