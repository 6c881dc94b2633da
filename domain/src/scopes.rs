//! Scopes and their REST regexes (the model crate holds them: the portal runs the same checks),
//! and which of them reach Gatehouse's own admin API.

use std::collections::HashSet;

use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::util::primitives::StateID;
use regex_automata::{Anchored, Input};

pub use model::scopes::*;

/// How the paths of Gatehouse's own admin API begin, as a REST regex sees them (without the
/// leading `/`; regexes match case-insensitively).
const ADMIN_API_PREFIXES: [&str; 2] = ["api/v1/", "cdirectoryservice/"];

/// Whether the REST regex `re` can match some path of Gatehouse's own admin API. The regex is
/// compiled as the matcher compiles it (`(?i)^(?:re)$`) into a DFA, walked through each prefix,
/// and searched for a reachable match: exact, not a sample of paths. A regex too large to decide
/// counts as matching (fail closed: a System Administrator must define it).
pub fn can_match_admin_api(re: &str) -> bool {
    let pattern = format!("(?i)^(?:{re})$");
    let built = dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .unicode_word_boundary(true)
                .dfa_size_limit(Some(4 << 20))
                .determinize_size_limit(Some(4 << 20)),
        )
        .build(&pattern);
    let Ok(dfa) = built else {
        return true;
    };
    let Ok(start) = dfa.start_state_forward(&Input::new("").anchored(Anchored::Yes)) else {
        return true;
    };
    ADMIN_API_PREFIXES.iter().any(|prefix| {
        let mut s = start;
        for b in prefix.bytes() {
            s = dfa.next_state(s, b);
            if dfa.is_dead_state(s) {
                return false;
            }
            if dfa.is_quit_state(s) {
                return true;
            }
        }
        match_reachable(&dfa, s)
    })
}

/// Whether some continuation from `from` (possibly empty) ends in a match.
fn match_reachable(dfa: &dense::DFA<Vec<u32>>, from: StateID) -> bool {
    let mut seen = HashSet::new();
    let mut stack = vec![from];
    while let Some(s) = stack.pop() {
        if !seen.insert(s) {
            continue;
        }
        if dfa.is_match_state(s) || dfa.is_match_state(dfa.next_eoi_state(s)) {
            return true;
        }
        for b in 0..=255u8 {
            let n = dfa.next_state(s, b);
            if dfa.is_quit_state(n) {
                return true;
            }
            if !dfa.is_dead_state(n) {
                stack.push(n);
            }
        }
    }
    false
}

/// The names of the scopes with a REST regex that can reach the admin API.
pub fn admin_api_scopes(scopes: &[Scope]) -> Vec<String> {
    scopes
        .iter()
        .filter(|s| s.rest_regexes.iter().any(|r| can_match_admin_api(r)))
        .map(|s| s.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_that_reach_the_admin_api_are_found_whatever_their_shape() {
        for re in [
            "api/v1/.*",
            "API/V1/users",
            ".*",
            "a?pi/v1/roles/[0-9a-f-]+/members/.*",
            "(foo|api)/v1/(users|roles)(/.*)?",
            "CDirectoryService/.*",
            "cdirectoryservice/createuser",
            "[a-z]+/v[0-9]/export",
            "api/v1/users/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        ] {
            assert!(can_match_admin_api(re), "{re} reaches the admin API");
        }
    }

    #[test]
    fn regexes_of_other_apis_are_not_admin_scopes() {
        for re in [
            "orders/.*",
            "api/v2/.*",
            "api/v1",
            "api/orders/[0-9]+",
            "reports/(daily|weekly)",
            "cdirectoryservices/x",
        ] {
            assert!(
                !can_match_admin_api(re),
                "{re} does not reach the admin API"
            );
        }
    }

    #[test]
    fn admin_api_scopes_names_the_scopes() {
        let scopes = vec![
            Scope {
                name: "orders".into(),
                description: String::new(),
                rest_regexes: vec!["orders/.*".into()],
            },
            Scope {
                name: "admin".into(),
                description: String::new(),
                rest_regexes: vec!["orders/x".into(), "api/v1/audit".into()],
            },
        ];
        assert_eq!(admin_api_scopes(&scopes), vec!["admin".to_string()]);
    }
}
