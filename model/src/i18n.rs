//! Languages (SPEC §6b): every string a person reads on the hosted pages, in the portal and in
//! mail comes from a Fluent message catalogue (`model/locales/{en,de}.ftl`, compiled in), looked
//! up by its key in the language negotiated for the request: `ui_locales` (OpenID Connect, the
//! client's wish for this sign-in), then the language a person chose or a client asked for
//! earlier in the same browser session, then the browser's `Accept-Language`, then the
//! deployment's default (a setting). The same code runs on the server and in the portal's wasm,
//! so a hydrated page says what the server drew.
//!
//! Dates and numbers are formatted here too, by the language's conventions (`12/5/2026` vs
//! `5.12.2026`, `1,234` vs `1.234`): two languages' rules are a few lines, where ICU4X's
//! formatters would add their locale data to the wasm.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

/// A language Gatehouse speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "de")]
    De,
}

/// An argument of a message: text, or a number (which also picks a plural form).
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}
impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Arg::Number(i64::from(n))
    }
}
impl From<i32> for Arg {
    fn from(n: i32) -> Self {
        Arg::Number(i64::from(n))
    }
}

/// `tr!(lang, "key", name = value, …)`: the message `key` with its arguments.
#[macro_export]
macro_rules! tr {
    ($lang:expr, $key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $lang.f($key, &[$((stringify!($name), $crate::i18n::Arg::from($value))),*])
    };
}

/// The catalogues, a file per part of the product (each file's keys start with its part's name,
/// except `common`'s).
macro_rules! catalogue {
    ($lang:literal) => {
        &[
            include_str!(concat!("../locales/", $lang, "/common.ftl")),
            include_str!(concat!("../locales/", $lang, "/hosted.ftl")),
            include_str!(concat!("../locales/", $lang, "/admin.ftl")),
            include_str!(concat!("../locales/", $lang, "/apps.ftl")),
            include_str!(concat!("../locales/", $lang, "/people.ftl")),
            include_str!(concat!("../locales/", $lang, "/security.ftl")),
            include_str!(concat!("../locales/", $lang, "/settings.ftl")),
            include_str!(concat!("../locales/", $lang, "/errors.ftl")),
        ]
    };
}
/// A message key named in a table (a code's message chosen before the language is known): the
/// tests find every key by this mark.
pub const fn msg(key: &'static str) -> &'static str {
    key
}

pub const EN_FTL: &[&str] = catalogue!("en");
pub const DE_FTL: &[&str] = catalogue!("de");

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> Bundle {
    let (sources, id) = match lang {
        Lang::En => (EN_FTL, unic_langid::langid!("en")),
        Lang::De => (DE_FTL, unic_langid::langid!("de")),
    };
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: they would be invisible characters in the
    // pages, the titles and the mail.
    b.set_use_isolating(false);
    b.set_formatter(Some(match lang {
        Lang::En => format_en,
        Lang::De => format_de,
    }));
    for source in sources {
        // A catalogue that does not parse is a build defect (the tests parse them all);
        // whatever parsed is still used.
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
        let _ = b.add_resource(resource);
    }
    b
}

fn format_en<M>(v: &FluentValue, _: &M) -> Option<String> {
    number_arg(v).map(|n| Lang::En.number(n))
}
fn format_de<M>(v: &FluentValue, _: &M) -> Option<String> {
    number_arg(v).map(|n| Lang::De.number(n))
}
fn number_arg(v: &FluentValue) -> Option<i64> {
    match v {
        FluentValue::Number(n) if n.value.fract() == 0.0 && n.value.abs() < 9e15 => {
            Some(n.value as i64)
        }
        _ => None,
    }
}

static EN: LazyLock<Bundle> = LazyLock::new(|| bundle(Lang::En));
static DE: LazyLock<Bundle> = LazyLock::new(|| bundle(Lang::De));

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 tag (`<html lang>`, `ui_locales`, the cookie).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's own name for itself (the language links).
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    /// The language of a BCP 47 tag (`de`, `de-AT`, `EN-us`), if Gatehouse speaks it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let id: unic_langid::LanguageIdentifier = tag.trim().parse().ok()?;
        Lang::ALL
            .into_iter()
            .find(|l| id.language.as_str() == l.tag())
    }

    fn bundle(self) -> &'static Bundle {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
        }
    }

    /// Whether the catalogue of this language defines `key` (the tests of the pages use it).
    pub fn has(self, key: &str) -> bool {
        self.bundle().has_message(key)
    }

    /// The message `key`.
    pub fn t(self, key: &str) -> String {
        self.f(key, &[])
    }

    /// The message `key` with its arguments (see [`tr!`]). A key missing in this language reads
    /// the English one; a key missing everywhere shows as itself (the tests keep both
    /// catalogues complete and every key used present).
    pub fn f(self, key: &str, args: &[(&str, Arg)]) -> String {
        let found = self
            .bundle()
            .get_message(key)
            .map(|m| (self.bundle(), m))
            .or_else(|| EN.get_message(key).map(|m| (&*EN, m)));
        let Some((bundle, message)) = found else {
            return key.to_string();
        };
        let Some(pattern) = message.value() else {
            return key.to_string();
        };
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(s) => fargs.set(*name, FluentValue::from(s.clone())),
                Arg::Number(n) => fargs.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = vec![];
        bundle
            .format_pattern(pattern, (!args.is_empty()).then_some(&fargs), &mut errors)
            .into_owned()
    }

    /// A whole number with this language's digit grouping.
    pub fn number(self, n: i64) -> String {
        let sep = match self {
            Lang::En => ',',
            Lang::De => '.',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// A day, `(year, month, day)`: `Dec 5, 2026` / `5.12.2026`.
    pub fn date(self, (y, m, d): (i64, i64, i64)) -> String {
        match self {
            Lang::En => {
                let month = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ]
                .get((m.clamp(1, 12) - 1) as usize)
                .copied()
                .unwrap_or("");
                format!("{month} {d}, {y}")
            }
            Lang::De => format!("{d}.{m}.{y}"),
        }
    }

    /// A moment given in Unix seconds, in UTC: `Dec 5, 2026, 13:47 UTC` / `5.12.2026, 13:47 UTC`.
    pub fn date_time(self, unix: i64) -> String {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        format!(
            "{}, {:02}:{:02} UTC",
            self.date(civil_from_days(days)),
            secs / 3600,
            secs % 3600 / 60
        )
    }

    /// An RFC 3339 moment (`2026-12-05T13:47:07Z`) as [`Lang::date_time`]; anything else as it is.
    pub fn rfc3339(self, s: &str) -> String {
        parse_rfc3339(s)
            .map(|t| self.date_time(t))
            .unwrap_or_else(|| s.to_string())
    }
}

/// Unix seconds of an RFC 3339 date-time with `Z` or an offset (seconds' fractions ignored).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let oh = o.get(1..3)?.parse::<i64>().ok()?;
            let om = o.get(4..6)?.parse::<i64>().ok()?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day number.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Its inverse: the day number of a date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One rule message's English pattern: literal text and named arguments, in order.
struct RulePattern {
    key: String,
    parts: Vec<Part>,
    /// How much literal text it has (the more, the more specific).
    literal: usize,
}

enum Part {
    Text(String),
    Arg(String),
}

/// The English rule messages (`errors.ftl`), most specific first.
static RULES: LazyLock<Vec<RulePattern>> = LazyLock::new(|| {
    let mut rules: Vec<RulePattern> = include_str!("../locales/en/errors.ftl")
        .lines()
        .filter(|l| l.starts_with("rule-") && !l.starts_with("rule-arg-"))
        .filter_map(|l| {
            let (key, value) = l.split_once(" = ")?;
            let mut parts = vec![];
            let mut rest = value;
            while let Some(i) = rest.find("{ $") {
                if i > 0 {
                    parts.push(Part::Text(rest[..i].to_string()));
                }
                let end = rest[i..].find(" }")? + i;
                parts.push(Part::Arg(rest[i + 3..end].to_string()));
                rest = &rest[end + 2..];
            }
            if !rest.is_empty() {
                parts.push(Part::Text(rest.to_string()));
            }
            let literal = parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.len(),
                    Part::Arg(_) => 0,
                })
                .sum();
            Some(RulePattern {
                key: key.trim().to_string(),
                parts,
                literal,
            })
        })
        .collect();
    rules.sort_by_key(|r| std::cmp::Reverse(r.literal));
    rules
});

/// The arguments that make `parts` read `text`, if any do (each argument at least one
/// character, the shortest that lets the rest match).
fn match_parts(parts: &[Part], text: &str, args: &mut Vec<(String, String)>) -> bool {
    match parts.split_first() {
        None => text.is_empty(),
        Some((Part::Text(t), rest)) => {
            text.starts_with(t.as_str()) && match_parts(rest, &text[t.len()..], args)
        }
        Some((Part::Arg(name), rest)) => {
            for (i, _) in text.char_indices().skip(1).chain([(text.len(), ' ')]) {
                args.push((name.clone(), text[..i].to_string()));
                if match_parts(rest, &text[i..], args) {
                    return true;
                }
                args.pop();
            }
            false
        }
    }
}

impl Lang {
    /// A rule message of the domain (validation, conflicts, refusals), which it states in
    /// English for the API, in this language: found by its English pattern in `errors.ftl`,
    /// its arguments carried over (an English field label among them translated too). A
    /// message no pattern reads stays as it is.
    pub fn rule(self, english: &str) -> String {
        if self == Lang::En {
            return english.to_string();
        }
        for r in RULES.iter() {
            let mut found = vec![];
            if match_parts(&r.parts, english, &mut found) {
                let args: Vec<(&str, Arg)> = found
                    .iter()
                    .map(|(name, value)| {
                        let label = format!("rule-arg-{}", slug(value));
                        let value = if self.has(&label) {
                            self.t(&label)
                        } else {
                            value.clone()
                        };
                        (name.as_str(), Arg::Text(value))
                    })
                    .collect();
                return self.f(&r.key, &args);
            }
        }
        english.to_string()
    }
}

/// Lower-case words joined by `-` (a label's key).
fn slug(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// The language for a request: the first language of `ui_locales` (space-separated, in order
/// of preference) Gatehouse speaks, else the one `remembered` for this browser, else the best
/// of `Accept-Language` (by its weights), else `default`.
pub fn negotiate(
    ui_locales: Option<&str>,
    remembered: Option<&str>,
    accept_language: Option<&str>,
    default: Lang,
) -> Lang {
    from_ui_locales(ui_locales)
        .or_else(|| remembered.and_then(Lang::from_tag))
        .or_else(|| {
            accept_language.and_then(|h| {
                fluent_langneg::accepted_languages::parse(h)
                    .into_iter()
                    .find_map(|id| Lang::from_tag(&id.to_string()))
            })
        })
        .unwrap_or(default)
}

/// The first language of an OpenID Connect `ui_locales` value Gatehouse speaks.
pub fn from_ui_locales(ui_locales: Option<&str>) -> Option<Lang> {
    ui_locales?.split_whitespace().find_map(Lang::from_tag)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// The keys a catalogue defines (messages, not terms).
    pub fn keys(sources: &[&str]) -> Vec<String> {
        let mut all = vec![];
        for source in sources {
            let r = match FluentResource::try_new(source.to_string()) {
                Ok(r) => r,
                Err((_, errors)) => panic!("a catalogue does not parse: {errors:?}"),
            };
            all.extend(r.entries().filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            }));
        }
        all
    }

    #[test]
    fn both_catalogues_parse_and_define_the_same_keys() {
        let mut en = keys(EN_FTL);
        let mut de = keys(DE_FTL);
        let n = en.len();
        en.sort();
        en.dedup();
        assert_eq!(en.len(), n, "a key twice in en.ftl");
        de.sort();
        let missing: Vec<_> = en.iter().filter(|k| !de.contains(k)).collect();
        let extra: Vec<_> = de.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing.is_empty(), "not in German: {missing:?}");
        assert!(extra.is_empty(), "only in German: {extra:?}");
    }

    #[test]
    fn every_message_formats_in_both_languages_without_errors() {
        for lang in Lang::ALL {
            for key in keys(EN_FTL) {
                let b = lang.bundle();
                let m = b.get_message(&key).expect("present");
                let Some(p) = m.value() else {
                    panic!("{key} has no value");
                };
                // Every argument any message uses (`$name`), as a number (which also selects
                // a plural form).
                let mut args = FluentArgs::new();
                for source in EN_FTL.iter().chain(DE_FTL) {
                    for part in source.split('$').skip(1) {
                        let name: String = part
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                            .collect();
                        if !name.is_empty() {
                            args.set(name, FluentValue::from(2));
                        }
                    }
                }
                let mut errors = vec![];
                let s = b.format_pattern(p, Some(&args), &mut errors);
                assert!(errors.is_empty(), "{key} in {lang:?}: {errors:?}");
                assert!(!s.trim().is_empty(), "{key} in {lang:?} is empty");
            }
        }
    }

    #[test]
    fn german_differs_from_english_and_plurals_follow_the_number() {
        assert_eq!(Lang::En.t("sign-in"), "Sign in");
        assert_eq!(Lang::De.t("sign-in"), "Anmelden");
        assert_eq!(
            tr!(Lang::En, "login-locked", minutes = 1),
            "Too many failed attempts. Try again in 1 minute."
        );
        assert!(tr!(Lang::De, "login-locked", minutes = 5).contains("5 Minuten"));
        assert_eq!(Lang::De.t("no-such-key"), "no-such-key");
    }

    #[test]
    fn the_domains_english_rules_read_in_german_with_their_arguments() {
        // Messages as the model's own checks state them.
        let short = crate::names::check_password("password", "short")
            .expect_err("too short")
            .message;
        assert_eq!(Lang::En.rule(&short), short);
        let de = Lang::De.rule(&short);
        assert_ne!(de, short, "{short}");
        assert!(de.contains('8'), "{de}");
        // A pattern with a label and numbers: the label is translated, the numbers kept.
        let m = Lang::De.rule("Application Name must be 1-128 characters");
        assert!(m.contains("App-Name") && m.contains("128"), "{m}");
        let m = Lang::De.rule("the app billing has this Issuer already: each app needs its own");
        assert!(m.contains("billing") && !m.contains("each app"), "{m}");
        // Anything else stays as it is.
        assert_eq!(
            Lang::De.rule("Something nobody wrote"),
            "Something nobody wrote"
        );
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(Lang::En.number(1_234_567), "1,234,567");
        assert_eq!(Lang::De.number(1_234_567), "1.234.567");
        assert_eq!(Lang::De.number(-999), "-999");
        assert_eq!(Lang::En.number(1000), "1,000");
        // 2026-12-05T13:47:07Z
        assert_eq!(Lang::En.date_time(1_796_478_427), "Dec 5, 2026, 13:47 UTC");
        assert_eq!(Lang::De.date_time(1_796_478_427), "5.12.2026, 13:47 UTC");
        assert_eq!(
            Lang::De.rfc3339("2026-12-05T13:47:07Z"),
            "5.12.2026, 13:47 UTC"
        );
        assert_eq!(
            Lang::En.rfc3339("2026-12-05T15:47:07.123+02:00"),
            "Dec 5, 2026, 13:47 UTC"
        );
        assert_eq!(Lang::En.rfc3339("not a date"), "not a date");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        for d in [-800_000, -1, 0, 59, 60, 11_016, 20_427, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn ui_locales_then_the_remembered_then_accept_language_then_the_default() {
        let n = |u, r, a| negotiate(u, r, a, Lang::En);
        assert_eq!(n(Some("fr de-CH en"), Some("en"), Some("en")), Lang::De);
        assert_eq!(n(Some("fr"), Some("de"), Some("en")), Lang::De);
        assert_eq!(
            n(None, None, Some("fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7")),
            Lang::De
        );
        assert_eq!(n(None, None, Some("en-US,en;q=0.9,de;q=0.8")), Lang::En);
        assert_eq!(n(None, None, Some("de-DE")), Lang::De);
        assert_eq!(n(None, None, Some("ja, zh")), Lang::En);
        assert_eq!(negotiate(None, Some("xx"), Some("fr"), Lang::De), Lang::De);
        assert_eq!(n(None, None, Some(";;;,,q=zz")), Lang::En);
        assert_eq!(Lang::from_tag("DE-at"), Some(Lang::De));
        assert_eq!(Lang::from_tag("deu"), None);
    }
}
