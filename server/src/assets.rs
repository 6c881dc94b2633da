//! The portal's built assets under `/pkg`: hashed file names when the build made them
//! (`hash-files` in the workspace's leptos metadata: cargo-leptos writes `hash.txt` beside the
//! binary), served precompressed when `.br`/`.gz` siblings exist (`cargo leptos build --release
//! --precompress`; the page fallback's `ServeDir` picks them by `Accept-Encoding`), and cached
//! for a year when the name carries its content hash, revalidated otherwise.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// `hash.txt` beside the running binary, read once: `js: …`, `wasm: …`, `css: …`.
fn hashes() -> &'static Option<HashMap<String, String>> {
    static HASHES: OnceLock<Option<HashMap<String, String>>> = OnceLock::new();
    HASHES.get_or_init(|| {
        let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect(),
        )
    })
}

/// Whether this build's assets have hashed names (Leptos then links them by those names).
pub fn hashed() -> bool {
    hashes().is_some()
}

/// The stylesheet's URL, with its hash when the build made one.
pub fn stylesheet() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| match hashes().as_ref().and_then(|h| h.get("css")) {
        Some(h) => format!("/pkg/gatehouse.{h}.css"),
        None => "/pkg/gatehouse.css".to_string(),
    })
}

/// `name.HASH.ext`: a file whose name changes whenever its content does.
fn has_content_hash(file: &str) -> bool {
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1].len() >= 10
        && parts[1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Cache headers for `/pkg/…`: a year and `immutable` for content-hashed names, otherwise
/// `no-cache` (the browser revalidates with `If-Modified-Since`).
pub async fn cache_headers(req: Request, next: Next) -> Response {
    let file = req.uri().path().strip_prefix("/pkg/").map(has_content_hash);
    let mut res = next.run(req).await;
    if let Some(immutable) = file {
        if res.status() == StatusCode::OK || res.status() == StatusCode::NOT_MODIFIED {
            let value = if immutable {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::has_content_hash;

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        assert!(has_content_hash("gatehouse.Yk3nA9dW2xZq-1_b.wasm"));
        assert!(has_content_hash("gatehouse.Yk3nA9dW2xZq-1_b.wasm.br"));
        assert!(!has_content_hash("gatehouse.wasm"));
        assert!(!has_content_hash("gatehouse_bg.wasm.d.ts"));
        assert!(!has_content_hash("gatehouse.css"));
    }
}
