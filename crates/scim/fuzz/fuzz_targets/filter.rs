//! Any text: parse as a filter and as a PATCH path; whatever parses must render to text that parses back
//! to the same AST (unless the rendering itself exceeds MAX_FILTER_LEN or MAX_FILTER_DEPTH: escaping can
//! lengthen strings and chains render with parentheses), and must resolve and evaluate without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_scim::schema::{GROUP, USER};
use scimd_scim::{filter, path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(f) = filter::parse(text) {
        let rendered = f.to_string();
        match filter::parse(&rendered) {
            Ok(again) => assert_eq!(again, f, "round trip of {text:?} via {rendered:?}"),
            Err(e) => assert!(
                e.detail.contains("MAX_FILTER_LEN") || e.detail.contains("MAX_FILTER_DEPTH"),
                "rendering of {text:?} does not parse: {e}"
            ),
        }
        for schema in [&USER, &GROUP] {
            if let Ok(r) = filter::resolve(&f, schema) {
                let doc = serde_json::json!({"userName": "a", "emails": [{"value": "x", "type": "work"}]});
                let _ = filter::in_memory::matches(&r, &doc);
            }
        }
    }
    if let Ok(p) = path::parse(text) {
        match path::parse(&p.to_string()) {
            Ok(again) => assert_eq!(again, p, "path round trip of {text:?}"),
            Err(e) => assert!(
                e.detail.contains("MAX_FILTER_LEN") || e.detail.contains("MAX_FILTER_DEPTH"),
                "{e}"
            ),
        }
    }
});
