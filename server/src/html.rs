//! The few pages rendered without Leptos (authorize errors, consent, connected apps, 403):
//! one frame with the portal's stylesheet, and HTML escaping.

use axum::response::Html;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Gatehouse</title><link rel=\"stylesheet\" href=\"{}\"><link rel=\"icon\" href=\"data:,\"></head>\
         <body><main class=\"center\">{body}</main></body></html>",
        escape(title),
        crate::assets::stylesheet()
    ))
}
