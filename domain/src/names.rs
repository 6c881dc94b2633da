//! Names of SPEC §2 (the model crate holds them: the portal runs the same checks), and their
//! normal form on the server: Unicode NFC, invisible characters dropped, whitespace runs as one
//! space, and role names that look like a built-in role's refused.

use unicode_normalization::UnicodeNormalization;

pub use model::names::*;

use crate::error::{DomainError, Result};
use model::roles::{EVERYBODY, SYSADMIN};

/// Characters that show as nothing (Unicode's Default_Ignorable_Code_Point, which includes the
/// zero-width and bidirectional controls): a name containing one is a name in disguise.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// `s` without invisible characters (they are dropped, as UTS 39 does before comparing
/// identifiers: `ad\u{200B}min` is `admin`), in NFC, with every run of whitespace (no-break
/// spaces and line breaks included) as one space and none around it. What a field refuses
/// (control characters in a login or role name) its own parser still refuses.
pub fn normal_form(s: &str) -> String {
    let visible: String = s.chars().filter(|c| !invisible(*c)).collect();
    let nfc: String = visible.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a name looks, for comparing look-alikes: the UTS 39 skeleton of its lower case.
fn skeleton(s: &str) -> String {
    unicode_security::confusable_detection::skeleton(&s.to_lowercase())
        .collect::<String>()
        .to_lowercase()
}

/// A role name in its normal form; one that looks like a built-in role's name without being
/// it is refused (`System Administrator` with a no-break space or a Cyrillic `а`).
pub fn role_name(raw: &str) -> Result<RoleName> {
    // Control characters inside are refused as they were (a vertical tab is whitespace to the
    // normal form, but no part of a name), before the normal form collapses whitespace.
    RoleName::parse(raw)?;
    let name = RoleName::parse(&normal_form(raw))?;
    for builtin in [SYSADMIN, EVERYBODY] {
        if name.as_str() != builtin && skeleton(name.as_str()) == skeleton(builtin) {
            return Err(DomainError::invalid(
                "name",
                format!("Name looks like the built-in role {builtin:?}: choose another"),
            ));
        }
    }
    Ok(name)
}

/// A login name in NFC, without invisible characters (control characters and spaces are
/// refused by its parser).
pub fn login_name(raw: &str) -> Result<LoginName> {
    // Checked as sent first (length, spaces and control characters, as the OpenAPI document
    // states), then stored in the normal form.
    LoginName::parse(raw)?;
    Ok(LoginName::parse(&normal_form(raw))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_of_built_in_roles_are_refused() {
        for fake in [
            "System\u{00A0}Administrator",
            "System  Administrator ",
            "Sy\u{200B}stem Administrator",
            "Syst\u{0435}m Administrator",
            "SYSTEM ADMINISTRATOR",
            "System\u{0B}Administrator",
            "Everybоdy",
            "Everybody\u{202E}",
        ] {
            let r = role_name(fake);
            assert!(
                r.as_ref().is_err()
                    || r.as_ref()
                        .is_ok_and(|n| n.as_str() == SYSADMIN || n.as_str() == EVERYBODY),
                "{fake:?} refused or the very name (a duplicate the database refuses): {r:?}"
            );
            assert_ne!(
                r.as_ref().map(|n| n.as_str().to_string()).ok(),
                Some("SYSTEM ADMINISTRATOR".to_string()),
                "case look-alike refused"
            );
        }
        assert_eq!(
            role_name("  Help   desk ").map(|n| n.into_inner()).ok(),
            Some("Help desk".to_string())
        );
        assert!(role_name(SYSADMIN).is_ok());
    }

    #[test]
    fn names_are_stored_in_nfc() {
        let decomposed = "Rene\u{0301}e";
        assert_eq!(
            login_name(decomposed).map(|n| n.into_inner()).ok(),
            Some("Ren\u{00E9}e".to_string())
        );
        assert_eq!(
            login_name("ad\u{200B}min").map(|n| n.into_inner()).ok(),
            Some("admin".to_string()),
            "an invisible character is no disguise: the name is admin's"
        );
        assert!(login_name("ad\u{1}min").is_err());
    }
}
