//! [`Distinct`]: a list of JSON values that keeps the first of equal values, in expected linear time. The
//! multi-valued attribute rules (RFC 7643 §2.4: no duplicate values) used a linear `contains` per value,
//! quadratic in the list; this buckets values by a hash consistent with `Value`'s `==` and compares only
//! within a bucket.

use crate::work;
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

/// A list of values with a hash index of them.
#[derive(Debug, Default)]
pub(crate) struct Distinct {
    items: Vec<Value>,
    buckets: HashMap<u64, Vec<usize>>,
    state: RandomState,
}

impl Distinct {
    /// Starts from `items` as they are (duplicates already among them stay, as before).
    pub(crate) fn from_items(items: Vec<Value>) -> Self {
        let mut d = Self {
            items: Vec::with_capacity(items.len()),
            buckets: HashMap::with_capacity(items.len()),
            state: RandomState::new(),
        };
        for v in items {
            let h = d.hash(&v);
            d.record(h, v);
        }
        d
    }

    /// Appends `v` unless an equal value is already in the list; returns whether it was appended.
    pub(crate) fn push(&mut self, v: Value) -> bool {
        let h = self.hash(&v);
        if let Some(ids) = self.buckets.get(&h) {
            for &i in ids {
                work::add(1);
                if self.items.get(i) == Some(&v) {
                    return false;
                }
            }
        }
        self.record(h, v);
        true
    }

    pub(crate) fn into_vec(self) -> Vec<Value> {
        self.items
    }

    fn record(&mut self, h: u64, v: Value) {
        self.buckets.entry(h).or_default().push(self.items.len());
        self.items.push(v);
    }

    fn hash(&self, v: &Value) -> u64 {
        let mut h = self.state.build_hasher();
        hash_value(v, &self.state, &mut h);
        h.finish()
    }
}

/// Hashes `v` so that values equal under `Value`'s `==` hash alike: object members are combined in an
/// order-independent way (map equality ignores order when serde_json keeps insertion order), and `0.0`
/// and `-0.0`, which compare equal, hash alike.
fn hash_value(v: &Value, state: &RandomState, h: &mut impl Hasher) {
    work::add(1);
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => {
            2u8.hash(h);
            if n.is_f64() {
                let f = n.as_f64().unwrap_or_default();
                (0u8, if f == 0.0 { 0 } else { f.to_bits() }).hash(h);
            } else if let Some(u) = n.as_u64() {
                (1u8, u).hash(h);
            } else {
                (2u8, n.as_i64()).hash(h);
            }
        }
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            for i in items {
                hash_value(i, state, h);
            }
        }
        Value::Object(o) => {
            (5u8, o.len()).hash(h);
            let mut sum = 0u64;
            for (k, iv) in o {
                let mut eh = state.build_hasher();
                k.hash(&mut eh);
                hash_value(iv, state, &mut eh);
                sum = sum.wrapping_add(eh.finish());
            }
            sum.hash(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Small JSON values with many collisions: few keys, few strings, numbers of both kinds.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..3).prop_map(|i| json!(i - 1)),
            prop::sample::select(vec![0.0, -0.0, 1.0, 1.5]).prop_map(|f| json!(f)),
            prop::sample::select(vec!["a", "b", "A"]).prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::vec(
                    (prop::sample::select(vec!["value", "type", "primary"]), inner),
                    0..3
                )
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    proptest! {
        /// The same result as the quadratic `if !out.contains(&v) { out.push(v) }` it replaces.
        #[test]
        fn agrees_with_the_contains_loop(start in prop::collection::vec(value(), 0..6), new in prop::collection::vec(value(), 0..12)) {
            let mut reference = start.clone();
            for v in &new {
                if !reference.contains(v) {
                    reference.push(v.clone());
                }
            }
            let mut d = Distinct::from_items(start);
            for v in new {
                d.push(v);
            }
            prop_assert_eq!(d.into_vec(), reference);
        }
    }

    #[test]
    fn keeps_the_first_of_equal_values_in_order() {
        let mut d = Distinct::from_items(vec![json!({"value": "a", "type": "work"}), json!("x")]);
        assert!(!d.push(json!({"type": "work", "value": "a"})));
        assert!(d.push(json!({"value": "a"})));
        assert!(!d.push(json!("x")));
        assert!(d.push(json!(1)));
        assert!(d.push(json!(1.0)), "1 and 1.0 are different JSON values");
        assert!(!d.push(json!(-0.0_f64)) || !d.push(json!(0.0_f64)));
        assert_eq!(
            d.into_vec()[..4],
            [
                json!({"value": "a", "type": "work"}),
                json!("x"),
                json!({"value": "a"}),
                json!(1)
            ]
        );
    }
}
