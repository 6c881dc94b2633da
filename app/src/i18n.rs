//! The page's language (`model::i18n`): negotiated by the server for each request, handed to the
//! browser with the page so hydration draws the same words, and given to every component as a
//! context (`use_lang`). Server functions translate their answers with `request_lang`.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
pub use model::i18n::Lang;
pub use model::tr;

/// The language the server drew this page in: from the request (its negotiated language, or
/// the one a notice was drawn with) on the server, read back from the page while hydrating.
/// Called once, in `App`.
pub fn shared_lang() -> Lang {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            request_lang()
        }
        #[cfg(not(feature = "ssr"))]
        {
            Lang::default()
        }
    })
    .into_inner()
}

/// The language of the request being answered (server only): what the server's language layer
/// put in the request, else a language provided to the render, else the deployment's default.
#[cfg(feature = "ssr")]
pub fn request_lang() -> Lang {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Lang>().copied())
        .or_else(use_context::<Lang>)
        .or_else(|| use_context::<domain::Services>().map(|s| s.branding().default_language))
        .unwrap_or_default()
}

/// The page's language, in any component.
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

/// The query parameters a language link keeps.
const KEPT: [&str; 4] = ["return_to", "token", "user_code", "login_name"];

/// Links to this same page in each other language Gatehouse speaks (they set `ui_locales`,
/// which the server remembers for the rest of the visit).
#[component]
pub fn LanguageLinks() -> impl IntoView {
    let l = use_lang();
    let location = use_location();
    let query = use_query_map();
    let href = move |to: Lang| {
        let mut pairs: Vec<(String, String)> = query
            .get()
            .into_iter()
            // What the page needs to be the same page (not its messages, not anything else
            // the address carried).
            .filter(|(k, _)| KEPT.contains(&k.as_ref()))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        pairs.push(("ui_locales".into(), to.tag().into()));
        let q = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    crate::api::encode_query(k),
                    crate::api::encode_query(v)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        format!("{}?{q}", location.pathname.get())
    };
    view! {
        <nav class="languages" aria-label=l.t("language-links")>
            {Lang::ALL.into_iter().filter(move |x| *x != l).map(|to| view! {
                <a href=move || href(to) hreflang=to.tag() lang=to.tag() rel="external">{to.name()}</a>
            }).collect_view()}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the portal's code asks for is in the catalogues: `.t("key")`, `tr!(l, "key"…`
    /// and `msg("key")` in tables of keys are found by their shapes.
    #[test]
    fn every_key_the_code_uses_is_in_the_catalogues() {
        let mut missing = vec![];
        let mut seen = 0;
        for dir in ["src", "../server/src", "../domain/src"] {
            for file in rust_files(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)) {
                let text = std::fs::read_to_string(&file).expect("read");
                for key in keys_in(&text) {
                    seen += 1;
                    if !Lang::En.has(&key) || !Lang::De.has(&key) {
                        missing.push(format!("{}: {key}", file.display()));
                    }
                }
            }
        }
        assert!(seen > 100, "the scan found only {seen} keys");
        assert!(
            missing.is_empty(),
            "keys not in the catalogues: {missing:#?}"
        );
    }

    /// No words are left in the pages' views: a text node right after a tag (`>"Save"`) or a
    /// person-facing attribute given as a literal (`aria-label="…"`, `placeholder`, `alt`,
    /// `title`, `<Title text>`) with letters in it fails, except code shown as code
    /// (`<code>"resource"</code>`).
    #[test]
    fn the_views_hold_no_words_outside_the_catalogues() {
        let mut found = vec![];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for file in rust_files(dir) {
            let text = std::fs::read_to_string(&file).expect("read");
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let words = |lit: &str| {
                lit.as_bytes()
                    .windows(3)
                    .any(|w| w.iter().all(|c| c.is_ascii_alphabetic()))
            };
            let mut check = |marker: &str, allow_code: bool| {
                let mut rest = text;
                while let Some(i) = rest.find(marker) {
                    rest = &rest[i + marker.len()..];
                    let Some(end) = rest.find('"') else { break };
                    let lit = &rest[..end];
                    let after = &rest[end + 1..];
                    if words(lit) && !(allow_code && after.starts_with("</code>")) {
                        found.push(format!("{}: {marker}{lit}\"", file.display()));
                    }
                }
            };
            check(">\"", true);
            for attr in [
                "aria-label=\"",
                "placeholder=\"",
                " alt=\"",
                " title=\"",
                "<Title text=\"",
            ] {
                check(attr, false);
            }
        }
        assert!(found.is_empty(), "words outside the catalogues: {found:#?}");
    }

    /// Every English rule in `errors.ftl` is still stated by the code: each literal piece of its
    /// pattern appears in the model's or the domain's sources (a reworded message would
    /// otherwise silently lose its German).
    #[test]
    fn every_rule_pattern_is_still_stated_by_the_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut code = String::new();
        for dir in ["../model/src", "../domain/src"] {
            for f in rust_files(root.join(dir)) {
                code.push_str(
                    &std::fs::read_to_string(f)
                        .expect("read")
                        .replace("\\\"", "\""),
                );
            }
        }
        let mut stale = vec![];
        for line in model::i18n::EN_FTL.iter().flat_map(|f| f.lines()) {
            let Some((key, value)) = line.split_once(" = ") else {
                continue;
            };
            if !key.starts_with("rule-") || key.starts_with("rule-arg-") {
                continue;
            }
            let mut rest = value;
            let mut pieces = vec![];
            while let Some(i) = rest.find("{ $") {
                pieces.push(&rest[..i]);
                rest = rest[i..].split_once(" }").map(|(_, r)| r).unwrap_or("");
            }
            pieces.push(rest);
            if pieces
                .iter()
                .any(|p| !p.trim().is_empty() && !code.contains(p))
            {
                stale.push(format!("{key} = {value}"));
            }
        }
        assert!(
            stale.is_empty(),
            "errors.ftl names messages the code no longer states: {stale:#?}"
        );
    }

    fn rust_files(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
        let mut out = vec![];
        for e in std::fs::read_dir(&dir).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(rust_files(p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }

    /// The keys in `.t("…")`, `tr!(x, "…"` and `msg("…")` (a key named in a table) whose literal looks
    /// like a key (lower-case words joined by dashes, at least one dash).
    fn keys_in(text: &str) -> Vec<String> {
        let mut keys = vec![];
        for marker in [".t(\"", "tr!(", "msg(\""] {
            let mut rest = text;
            while let Some(i) = rest.find(marker) {
                rest = &rest[i + marker.len()..];
                let lit = if marker == "tr!(" {
                    match rest.find('"') {
                        Some(q) if !rest[..q].contains(')') => &rest[q + 1..],
                        _ => continue,
                    }
                } else {
                    rest
                };
                if let Some(end) = lit.find('"') {
                    let k = &lit[..end];
                    if k.contains('-')
                        && k.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    {
                        keys.push(k.to_string());
                    }
                }
            }
        }
        keys
    }
}
