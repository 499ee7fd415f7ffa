//! Work grows at most linearly with the input, shown by counting steps (`scimd_scim::work`), never by
//! timing: for an input of size n and one of size 2n built the same way, the 2n input may take at most
//! twice the steps plus a small constant. A quadratic step (the old `contains` deduplication, or
//! `hits.contains` in value-path edits) makes the 2n input cost about four times as much and fails.
//!
//! The sizes stay within the limits of `scimd_scim::limits` (at most 100 values per attribute), where the
//! algorithms run; inputs past a limit are refused before the work, which the last test counts too.

use crate::common::{bjensen, ops};
use proptest::prelude::*;
use scimd_scim::patch::{self, PatchRequest};
use scimd_scim::schema::USER;
use scimd_scim::{filter, work};
use serde_json::{Value, json};

/// Allowed slack: a few steps of fixed cost that do not scale with the input.
const SLACK: u64 = 64;

fn filter_steps(text: &str) -> u64 {
    let ((), n) = work::measure(|| {
        let f = filter::parse(text).expect("parses");
        let r = filter::resolve(&f, &USER).expect("resolves");
        let _ = filter::in_memory::matches(&r, &bjensen());
    });
    n
}

fn patch_steps(doc: &Value, operations: Value) -> u64 {
    let req = PatchRequest::from_value(ops(operations)).expect("a PATCH body");
    let mut d = doc.clone();
    let (r, n) = work::measure(|| patch::apply(&mut d, &req, &USER));
    assert!(r.is_ok(), "{r:?}");
    n
}

fn linear(small: u64, large: u64) -> Result<(), TestCaseError> {
    prop_assert!(small > 0);
    prop_assert!(
        large <= 2 * small + SLACK,
        "n: {} steps, 2n: {} steps",
        small,
        large
    );
    Ok(())
}

/// A User with `n` emails, every `k`-th one of type work.
fn with_emails(n: usize, k: usize) -> Value {
    let mut doc = bjensen();
    let emails: Vec<Value> = (0..n)
        .map(|i| json!({"value": format!("e{i:04}@x"), "type": if i % k.max(1) == 0 { "work" } else { "home" }}))
        .collect();
    doc["emails"] = Value::Array(emails);
    doc
}

/// `n` email values of which every `dup`-th repeats an earlier one.
fn email_values(n: usize, dup: usize, salt: &str) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let j = if dup > 0 && i % dup == dup - 1 { i / 2 } else { i };
            json!({"value": format!("{salt}{j:04}@x"), "type": "work"})
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn filter_or_chains(n in 8usize..=60, op in prop::sample::select(vec!["eq", "co", "sw"])) {
        let chain = |n: usize| (0..n).map(|i| format!("userName {op} \"u{i:04}\"")).collect::<Vec<_>>().join(" or ");
        linear(filter_steps(&chain(n)), filter_steps(&chain(2 * n)))?;
    }

    #[test]
    fn filter_nesting(n in 2usize..=15) {
        let nested = |n: usize| format!("{}userName pr{}", "(".repeat(n), ")".repeat(n));
        let not = |n: usize| format!("{}title pr{}", "not (".repeat(n), ")".repeat(n));
        linear(filter_steps(&nested(n)), filter_steps(&nested(2 * n)))?;
        linear(filter_steps(&not(n)), filter_steps(&not(2 * n)))?;
    }

    #[test]
    fn filter_long_strings(n in 16usize..=3_000, escaped in any::<bool>()) {
        let unit = if escaped { "\\\"\\u00e9" } else { "ab" };
        let text = |n: usize| format!("emails[value co \"{}\"]", unit.repeat(n / unit.len().max(1) + 1));
        linear(filter_steps(&text(n)), filter_steps(&text(2 * n)))?;
    }

    #[test]
    fn patch_many_operations(n in 10usize..=400) {
        let ops_of = |n: usize| {
            Value::Array((0..n).map(|i| match i % 4 {
                0 => json!({"op": "replace", "path": "title", "value": format!("t{i:04}")}),
                1 => json!({"op": "add", "path": "name.givenName", "value": format!("g{i:04}")}),
                2 => json!({"op": "remove", "path": "emails[value eq \"none\"]"}),
                _ => json!({"op": "Replace", "value": {"nickName": format!("n{i:04}"), "active": "True"}}),
            }).collect())
        };
        let doc = bjensen();
        linear(patch_steps(&doc, ops_of(n)), patch_steps(&doc, ops_of(2 * n)))?;
    }

    #[test]
    fn patch_big_multi_valued_add_with_duplicates(n in 10usize..=50, dup in 0usize..4) {
        // Into an empty list (coerce's deduplication) and into a list of as many (the merge).
        let mut empty = bjensen();
        if let Some(o) = empty.as_object_mut() {
            o.remove("emails");
        }
        let add = |n: usize| json!([{"op": "add", "path": "emails", "value": email_values(n, dup, "a")}]);
        linear(patch_steps(&empty, add(n)), patch_steps(&empty, add(2 * n)))?;
        let m = n / 2;
        let merge = |m: usize| json!([{"op": "add", "path": "emails", "value": email_values(m, dup, "b")}]);
        linear(patch_steps(&with_emails(m, 3), merge(m)), patch_steps(&with_emails(2 * m, 3), merge(2 * m)))?;
    }

    #[test]
    fn patch_value_path_edits(n in 10usize..=50, k in 1usize..4) {
        let remove = json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]);
        linear(patch_steps(&with_emails(n, k), remove.clone()), patch_steps(&with_emails(2 * n, k), remove))?;
        let set = json!([{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}]);
        linear(patch_steps(&with_emails(n, k), set.clone()), patch_steps(&with_emails(2 * n, k), set))?;
    }
}

#[test]
fn inputs_past_a_limit_cost_no_more_than_the_limit() {
    let steps = |n: usize| {
        let values: Vec<Value> = (0..n).map(|i| json!(i.to_string())).collect();
        let req = PatchRequest::from_value(ops(json!([{"op": "add", "path": "emails", "value": values}])));
        let req = req.expect("a PATCH body");
        let mut doc = bjensen();
        let (r, n) = work::measure(|| patch::apply(&mut doc, &req, &USER));
        assert!(r.is_err());
        n
    };
    let (small, large) = (steps(10_000), steps(100_000));
    assert!(large <= small + SLACK, "10k: {small} steps, 100k: {large} steps");
}
