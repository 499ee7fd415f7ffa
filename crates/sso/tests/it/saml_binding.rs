//! The HTTP-Redirect encoding and its inflate cap (S1: a deflate bomb is cut off at the cap).

use flate2::Compression;
use flate2::write::DeflateEncoder;
use scimd_sso::saml::binding::{self, MAX_DECODED_LEN};
use std::io::Write as _;

#[test]
fn redirect_encoding_round_trips() {
    let xml = "<samlp:AuthnRequest ID=\"_1\"/>";
    let encoded = binding::deflate_encode(xml).unwrap();
    assert_eq!(binding::decode_redirect(&encoded).unwrap(), xml);
}

#[test]
fn a_deflate_bomb_is_cut_off_at_the_cap() {
    // 10 MiB of zeros compresses to about 10 KiB.
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![b'0'; 1024 * 1024];
    for _ in 0..10 {
        encoder.write_all(&chunk).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 64 * 1024, "the bomb is small: {}", bomb.len());
    assert_eq!(
        binding::inflate_capped(&bomb, MAX_DECODED_LEN)
            .unwrap_err()
            .reason_code(),
        "saml_too_large"
    );
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bomb);
    assert_eq!(
        binding::decode_redirect(&encoded).unwrap_err().reason_code(),
        "saml_too_large"
    );
}

#[test]
fn exactly_the_cap_inflates() {
    let data = vec![b'a'; 1000];
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&data).unwrap();
    let compressed = encoder.finish().unwrap();
    assert_eq!(binding::inflate_capped(&compressed, 1000).unwrap(), data);
    assert!(binding::inflate_capped(&compressed, 999).is_err());
}

#[test]
fn garbage_is_not_deflate() {
    assert_eq!(
        binding::inflate_capped(&[0xff; 16], 1024)
            .unwrap_err()
            .reason_code(),
        "saml_bad_deflate"
    );
}
