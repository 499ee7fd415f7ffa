//! The token format, proven on many tokens: shape, checksum, detection of any one-character change, and no
//! bias in the body's characters (a chi-square test, with a check that the same test does catch modulo bias).

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use scimd_tokens::PlaintextToken;
use scimd_tokens::bearer::format::{self, ALPHABET, BODY_LEN, FormatError, PREFIX, TOKEN_LEN, check_format};
use std::collections::HashSet;

fn fresh() -> String {
    PlaintextToken::generate().unwrap().expose_once()
}

/// The next alphabet character after `c` (always a different, valid character).
fn other_alnum(c: u8) -> u8 {
    let i = ALPHABET.iter().position(|&a| a == c).unwrap_or(0);
    ALPHABET[(i + 1) % ALPHABET.len()]
}

fn replace_at(token: &str, index: usize, with: char) -> String {
    token
        .chars()
        .enumerate()
        .map(|(i, c)| if i == index { with } else { c })
        .collect()
}

#[test]
fn ten_thousand_tokens_match_the_format_and_fail_after_any_one_character_change() {
    let mut seen = HashSet::new();
    for _ in 0..10_000 {
        let token = fresh();
        assert_eq!(token.len(), TOKEN_LEN, "{token}");
        assert!(token.starts_with(PREFIX));
        assert!(token[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(check_format(&token), Ok(()));
        for (index, &byte) in token.as_bytes().iter().enumerate() {
            let changed = replace_at(&token, index, char::from(other_alnum(byte)));
            assert!(check_format(&changed).is_err(), "position {index} of {token}");
        }
        assert!(seen.insert(token), "a token repeated");
    }
}

#[test]
fn every_substitution_of_every_position_fails_on_a_sample() {
    for _ in 0..40 {
        let token = fresh();
        for index in 0..TOKEN_LEN {
            for &c in ALPHABET.iter().chain(b"_-+/=~ ") {
                if token.as_bytes()[index] == c {
                    continue;
                }
                let changed = replace_at(&token, index, char::from(c));
                assert!(check_format(&changed).is_err(), "{index} -> {}", char::from(c));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_one_character_change_fails_the_check(index in 0..TOKEN_LEN, with in any::<char>()) {
        let token = fresh();
        prop_assume!(token.chars().nth(index) != Some(with));
        let changed = replace_at(&token, index, with);
        prop_assert!(check_format(&changed).is_err());
    }

    #[test]
    fn arbitrary_strings_never_pass_unless_well_formed(s in "scimd_[0-9A-Za-z]{49}") {
        // A random well-shaped string passes only if its checksum happens to match (1 in 2^32).
        prop_assert_eq!(check_format(&s), Err(FormatError::BadChecksum));
    }
}

#[test]
fn truncated_extended_and_foreign_strings_are_malformed() {
    let token = fresh();
    for bad in [
        "",
        "scimd_",
        &token[..TOKEN_LEN - 1],
        &format!("{token}0"),
        &token.replacen("scimd_", "scimx_", 1),
        &token.to_uppercase(),
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ] {
        assert_eq!(check_format(bad), Err(FormatError::Malformed), "{bad}");
    }
}

/// Pearson's chi-square statistic of `counts` against the uniform distribution.
fn chi_square(counts: &[u64; 62]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / 62.0;
    counts
        .iter()
        .map(|&n| {
            let d = n as f64 - expected;
            d * d / expected
        })
        .sum()
}

/// The chi-square quantile for 61 degrees of freedom at p = 1e-6 is about 128.9 (Wilson-Hilferty): a fair
/// source fails this test once in a million runs.
const CRITICAL: f64 = 128.9;

fn index_of(c: u8) -> usize {
    ALPHABET.iter().position(|&a| a == c).unwrap()
}

#[test]
fn body_characters_show_no_bias() {
    let tokens: Vec<String> = (0..20_000).map(|_| fresh()).collect();
    let mut all = [0u64; 62];
    let mut first = [0u64; 62];
    let mut last = [0u64; 62];
    for token in &tokens {
        let body = &token.as_bytes()[PREFIX.len()..PREFIX.len() + BODY_LEN];
        for &c in body {
            all[index_of(c)] += 1;
        }
        first[index_of(body[0])] += 1;
        last[index_of(body[BODY_LEN - 1])] += 1;
    }
    for (name, counts) in [
        ("all positions", &all),
        ("first position", &first),
        ("last position", &last),
    ] {
        let stat = chi_square(counts);
        assert!(stat < CRITICAL, "{name}: chi-square {stat:.1} >= {CRITICAL}");
    }
}

#[test]
fn the_chi_square_test_does_catch_modulo_bias() {
    // The mistake the sampler avoids: `byte % 62` without rejecting 248..=255 makes '0'..'7' 25% likelier.
    let mut rng = StdRng::seed_from_u64(7);
    let mut counts = [0u64; 62];
    let mut bytes = [0u8; 43];
    for _ in 0..20_000 {
        rand::Rng::fill_bytes(&mut rng, &mut bytes);
        for b in bytes {
            counts[usize::from(b % 62)] += 1;
        }
    }
    assert!(chi_square(&counts) > CRITICAL * 10.0, "{}", chi_square(&counts));

    // And the real sampler, fed by the same kind of source, passes.
    let mut rng = StdRng::seed_from_u64(7);
    let mut counts = [0u64; 62];
    for _ in 0..20_000 {
        let token = format::generate_with(&mut rng).unwrap().expose_once();
        for &c in &token.as_bytes()[PREFIX.len()..PREFIX.len() + BODY_LEN] {
            counts[index_of(c)] += 1;
        }
    }
    assert!(chi_square(&counts) < CRITICAL, "{}", chi_square(&counts));
}
