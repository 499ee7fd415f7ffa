//! The normalised form of a `userName` (and of group display names) used for case-insensitive uniqueness.
//!
//! We follow the PRECIS "UsernameCaseMapped" profile of RFC 8265 in spirit: width mapping, then case mapping,
//! then normalisation. Concretely: NFKC (which maps fullwidth `ＪＳｍｉｔｈ` to `JSmith` and folds other
//! compatibility forms), then Unicode lowercase, then NFKC again (lowercasing can produce sequences that are
//! not in normal form). Lowercase rather than full case folding keeps `ß` distinct from `ss`, as e-mail
//! providers do; `JSmith`, `jsmith` and `ＪＳｍｉｔｈ` are one name. Leading and trailing white space is
//! trimmed because IdPs occasionally send it and no mailbox has it.

use unicode_normalization::UnicodeNormalization;

/// The key under which a userName is unique in its org.
pub fn normalize(raw: &str) -> String {
    let lowered: String = raw.trim().nfkc().collect::<String>().to_lowercase();
    lowered.nfkc().collect()
}

/// The longest normalised key the store indexes, in bytes: NFKC can turn one character into many, so a value
/// within the protocol's length limit can still normalise past PostgreSQL's btree row limit (about 2.7 KB)
/// and fail with 500 instead of 400. Refused before it reaches an index.
pub const MAX_KEY_BYTES: usize = 1024;

/// The normalised key of `value`, or 400 `invalidValue` naming `attribute` when it is longer than
/// [`MAX_KEY_BYTES`].
pub fn key_within_limit(attribute: &str, value: &str) -> Result<String, scimd_scim::ScimError> {
    let key = normalize(value);
    if key.len() > MAX_KEY_BYTES {
        return Err(scimd_scim::ScimError::invalid_value(format!(
            "\"{attribute}\" is too long once normalised: at most {MAX_KEY_BYTES} bytes (user_name::MAX_KEY_BYTES)."
        )));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn case_and_width_variants_are_one_name() {
        assert_eq!(normalize("JSmith"), "jsmith");
        assert_eq!(normalize("jsmith"), "jsmith");
        assert_eq!(normalize("ＪＳｍｉｔｈ"), "jsmith");
        assert_eq!(normalize("  J.Smith@Example.COM "), "j.smith@example.com");
    }

    #[test]
    fn different_names_stay_different() {
        assert_ne!(normalize("jsmith"), normalize("jsmith2"));
        assert_ne!(normalize("straße"), normalize("strasse"));
    }
}
