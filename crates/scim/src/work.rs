//! A work meter: a per-thread count of the elementary steps the filter lexer and parser, filter
//! evaluation and the PATCH engine take (a byte or token scanned, a node built, an element coerced,
//! compared or visited). It is always compiled in and costs one thread-local add per step; tests use
//! [`measure`] to prove that work grows at most linearly with the input, by counting rather than timing.
//!
//! A thread-local rather than a parameter: the steps are deep inside helpers shared by validation, PATCH
//! and projection, and threading a `&mut` through all of them would change every signature for a count
//! that only tests read.

use std::cell::Cell;

thread_local! {
    static UNITS: Cell<u64> = const { Cell::new(0) };
}

/// Counts `n` steps on this thread.
#[inline]
pub(crate) fn add(n: u64) {
    UNITS.with(|u| u.set(u.get().wrapping_add(n)));
}

/// Counts `n` steps, `n` being a length.
#[inline]
pub(crate) fn add_len(n: usize) {
    add(u64::try_from(n).unwrap_or(u64::MAX));
}

/// Runs `f` and returns its result with the number of steps it took on this thread. Nested calls each see
/// their own steps; the outer one sees the inner ones too.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = UNITS.with(Cell::get);
    let out = f();
    let after = UNITS.with(Cell::get);
    (out, after.wrapping_sub(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_counts_only_its_closure() {
        add(5);
        let ((), n) = measure(|| {
            add(3);
            let ((), inner) = measure(|| add(2));
            assert_eq!(inner, 2);
        });
        assert_eq!(n, 5);
    }
}
