//! The SAML bindings' encodings, bounded before anything is parsed (S1).
//!
//! - HTTP-POST (the ACS): `SAMLResponse` is plain base64 of the XML. [`decode_post`] caps the encoded and
//!   decoded sizes, tolerates only CR, LF and space between base64 characters, and requires UTF-8.
//! - HTTP-Redirect (the AuthnRequest we send, and any future SLO input): raw DEFLATE (no zlib header), then
//!   base64. [`deflate_encode`] produces it; [`decode_redirect`] reverses it with an output cap, so a small
//!   deflate bomb is cut off at the cap instead of filling memory.

use super::SamlError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::io::{Read as _, Write as _};

/// The largest `SAMLResponse` form value accepted (base64 characters). Responses with group claims fit.
pub const MAX_ENCODED_LEN: usize = 256 * 1024;
/// The largest decoded (or inflated) SAML message accepted.
pub const MAX_DECODED_LEN: usize = 192 * 1024;

/// Decode an HTTP-POST `SAMLResponse` value into the XML text.
pub fn decode_post(value: &str) -> Result<String, SamlError> {
    let bytes = decode_base64(value)?;
    if bytes.len() > MAX_DECODED_LEN {
        return Err(SamlError::TooLarge {
            limit: MAX_DECODED_LEN,
        });
    }
    String::from_utf8(bytes).map_err(|_| SamlError::NotUtf8)
}

/// Decode an HTTP-Redirect `SAMLRequest`/`SAMLResponse` value (already URL-decoded) into the XML text,
/// inflating at most `MAX_DECODED_LEN` bytes.
pub fn decode_redirect(value: &str) -> Result<String, SamlError> {
    let compressed = decode_base64(value)?;
    let bytes = inflate_capped(&compressed, MAX_DECODED_LEN)?;
    String::from_utf8(bytes).map_err(|_| SamlError::NotUtf8)
}

/// Raw-inflate `data`, refusing output longer than `cap` bytes.
pub fn inflate_capped(data: &[u8], cap: usize) -> Result<Vec<u8>, SamlError> {
    let mut out = Vec::new();
    // One byte past the cap is enough to know the cap was exceeded; the rest is never inflated.
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    DeflateDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| SamlError::BadDeflate)?;
    if out.len() > cap {
        return Err(SamlError::TooLarge { limit: cap });
    }
    Ok(out)
}

/// Raw-DEFLATE and base64 `xml` for the HTTP-Redirect binding (the caller URL-encodes it).
pub fn deflate_encode(xml: &str) -> Result<String, SamlError> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(xml.as_bytes())
        .map_err(|_| SamlError::BadDeflate)?;
    let compressed = encoder.finish().map_err(|_| SamlError::BadDeflate)?;
    Ok(STANDARD.encode(compressed))
}

fn decode_base64(value: &str) -> Result<Vec<u8>, SamlError> {
    if value.len() > MAX_ENCODED_LEN {
        return Err(SamlError::TooLarge {
            limit: MAX_ENCODED_LEN,
        });
    }
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | ' '))
        .collect();
    STANDARD.decode(compact).map_err(|_| SamlError::BadBase64)
}
