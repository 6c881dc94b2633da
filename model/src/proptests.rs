//! Property tests of the model's parsers: hostile input never panics, and what is accepted
//! keeps its promises.

use proptest::prelude::*;

use crate::names::{AppId, LoginName, RedirectUri, ScopeName};
use crate::scopes::{validate_scopes, RestRegex, Scope};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn redirect_uris_never_panic_and_an_accepted_one_matches_itself(s in "\\PC{0,300}") {
        match RedirectUri::parse(&s) {
            Ok(u) => {
                prop_assert!(u.matches(u.as_str()));
                prop_assert!(!u.as_str().contains('#'));
                prop_assert!(!u.as_str().chars().any(char::is_whitespace));
            }
            Err(e) => prop_assert!(!e.message.is_empty(), "a refusal says why"),
        }
    }

    #[test]
    fn an_https_redirect_uri_is_accepted_and_matches_exactly(host in "[a-z]{1,12}", path in "[a-z0-9/]{0,20}", other in "[a-z]{1,5}") {
        let uri = format!("https://{host}.example/{path}");
        let u = RedirectUri::parse(&uri).map_err(|e| TestCaseError::fail(e.message))?;
        prop_assert!(u.matches(&uri));
        let appended = format!("{uri}{other}");
        prop_assert!(!u.matches(&appended), "exact, never a prefix");
        let elsewhere = format!("https://{host}{other}.example/{path}");
        prop_assert!(!u.matches(&elsewhere));
    }

    #[test]
    fn a_loopback_registration_matches_any_port_and_nothing_else(port in 1u16.., path in "[a-z/]{0,20}", other in "[a-z]{1,10}") {
        let reg = RedirectUri::parse(&format!("http://127.0.0.1/cb{path}")).map_err(|e| TestCaseError::fail(e.message))?;
        let with_port = format!("http://127.0.0.1:{port}/cb{path}");
        prop_assert!(reg.matches(&with_port));
        let elsewhere = format!("http://{other}.example:{port}/cb{path}");
        prop_assert!(!reg.matches(&elsewhere));
    }

    #[test]
    fn rest_regexes_of_any_shape_are_refused_or_match_as_the_contract_says(s in "\\PC{0,2000}", path in "[a-zA-Z0-9/]{0,30}") {
        let parsed = RestRegex::parse(&s);
        if s.chars().count() > 1024 {
            prop_assert!(parsed.is_err());
        }
        match parsed {
            // Whatever it accepts matches exactly as `(?i)^(?:re)$` on the path without its
            // leading slash and query would.
            Ok(re) => {
                let full = format!("(?i)^(?:{})$", s.trim());
                if let Ok(reference) = regex::Regex::new(&full) {
                    let request = format!("/{path}?q=1");
                    prop_assert_eq!(re.allows(&request), reference.is_match(&path));
                }
            }
            Err(e) => prop_assert!(!e.message.is_empty(), "a refusal says why"),
        }
    }

    #[test]
    fn a_literal_rest_regex_allows_its_path_in_any_case_and_nothing_longer(lit in "[a-z]{1,12}(/[a-z]{1,8}){0,3}", extra in "[a-z]{1,5}") {
        let re = RestRegex::parse(&lit).map_err(|e| TestCaseError::fail(e.message))?;
        let exact = format!("/{lit}");
        let upper = exact.to_uppercase();
        prop_assert!(re.allows(&exact), "its own path");
        prop_assert!(re.allows(&upper), "case-insensitive");
        let longer = format!("/{lit}{extra}");
        prop_assert!(!re.allows(&longer), "anchored at the end");
        let prefixed = format!("/{extra}/{lit}");
        prop_assert!(!re.allows(&prefixed), "anchored at the start");
    }

    #[test]
    fn hostile_regex_blowups_are_refused_not_compiled(n in 20usize..60) {
        // Nested counted repetition beyond the compile-size bound: refused with a reason
        // (how long it takes belongs to `make bench`, not to a test).
        let big = format!("(a{{1,{}}}){{1,{}}}", n * 50, n * 50);
        match RestRegex::parse(&big) {
            Err(e) => prop_assert!(!e.message.is_empty()),
            Ok(_) => prop_assert!(false, "{} compiled", big),
        }
    }

    #[test]
    fn names_never_panic_and_accepted_ones_follow_their_charset(s in "\\PC{0,200}") {
        if let Ok(id) = AppId::parse(&s) {
            prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
            prop_assert!((1..=64).contains(&id.as_str().len()));
        }
        if let Ok(n) = ScopeName::parse(&s) {
            prop_assert!(!n.as_str().is_empty());
        }
        if let Ok(l) = LoginName::parse(&s) {
            prop_assert!(!l.as_str().chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn scope_lists_are_validated_with_the_path_of_the_field_at_fault(
        names in proptest::collection::vec("\\PC{0,12}", 0..6),
        regexes in proptest::collection::vec("\\PC{0,12}", 0..4),
    ) {
        let scopes: Vec<Scope> = names.iter().map(|n| Scope {
            name: n.clone(),
            description: String::new(),
            rest_regexes: regexes.clone(),
        }).collect();
        match validate_scopes(scopes) {
            Ok(ok) => {
                let mut seen = std::collections::HashSet::new();
                prop_assert!(ok.iter().all(|s| seen.insert(s.name.clone())), "names unique");
            }
            Err(e) => prop_assert!(e.field.starts_with("scopes"), "{}", e.field),
        }
    }

    #[test]
    fn percent_encoding_round_trips(s in "\\PC{0,100}") {
        let e = crate::encode(&s);
        prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
        let mut out = Vec::new();
        let b = e.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).map_err(|e| TestCaseError::fail(e.to_string()))?;
                out.push(u8::from_str_radix(h, 16).map_err(|e| TestCaseError::fail(e.to_string()))?);
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        prop_assert_eq!(String::from_utf8(out).ok(), Some(s));
    }
}
