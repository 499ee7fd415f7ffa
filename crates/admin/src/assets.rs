//! The files of `web/`, embedded in the binary, served under `/static/NAME?v=HASH` with a year-long immutable
//! cache: the version is the first 12 hex digits of the file's SHA-256, so a new build changes every URL whose
//! file changed.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const FILES: [Asset; 3] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../web/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../web/app.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../../web/favicon.svg"),
    },
];

fn version(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The versioned URLs the layout links to.
#[derive(Debug, Clone)]
pub struct Assets {
    pub css: &'static str,
    pub js: &'static str,
    pub favicon: &'static str,
}

static URLS: LazyLock<(String, String, String)> = LazyLock::new(|| {
    let url = |i: usize| format!("/static/{}?v={}", FILES[i].name, version(FILES[i].body));
    (url(0), url(1), url(2))
});

impl Assets {
    pub fn get() -> Assets {
        Assets {
            css: URLS.0.as_str(),
            js: URLS.1.as_str(),
            favicon: URLS.2.as_str(),
        }
    }
}

/// `GET /static/{name}`.
pub async fn static_get(name: web::Path<String>) -> HttpResponse {
    let Some(asset) = FILES.iter().find(|a| a.name == name.as_str()) else {
        return HttpResponse::NotFound()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("not found");
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", version(asset.body))))
        .body(asset.body)
}
