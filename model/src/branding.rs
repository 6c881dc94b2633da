//! The look of the hosted pages (SPEC §6b): a product name, a logo and an accent colour. The
//! colour is checked against the pages' fixed colours so they stay WCAG AA (1.4.3): button text
//! on it, and it as link text on the page and the card.

use serde::{Deserialize, Serialize};

/// What the hosted pages and the portal show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Branding {
    pub product_name: String,
    /// `#rrggbb`; none: Gatehouse's own blue.
    pub accent_color: Option<String>,
    /// Where the logo is served (its content hash in the path); none: no logo.
    pub logo_url: Option<String>,
    /// The language of the pages when neither the client (`ui_locales`) nor the browser
    /// (`Accept-Language`) asks for one Gatehouse speaks.
    #[serde(default)]
    pub default_language: crate::i18n::Lang,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            product_name: "Gatehouse".into(),
            accent_color: None,
            logo_url: None,
            default_language: crate::i18n::Lang::En,
        }
    }
}

/// The colours the accent meets on the pages (style/main.css): the text on a primary button,
/// the page background and the card background (links).
pub const ACCENT_TEXT: &str = "#ffffff";
pub const PAGE_BACKGROUND: &str = "#f5f6f8";
pub const CARD_BACKGROUND: &str = "#ffffff";
/// WCAG 2.1 AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;

/// `#rrggbb` (or `#rgb`) as its three channels.
pub fn parse_hex(s: &str) -> Option<(u8, u8, u8)> {
    let h = s.trim().strip_prefix('#')?;
    let full: String = match h.len() {
        3 => h.chars().flat_map(|c| [c, c]).collect(),
        6 => h.to_string(),
        _ => return None,
    };
    if !full.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let at = |i: usize| u8::from_str_radix(&full[i..i + 2], 16).ok();
    Some((at(0)?, at(2)?, at(4)?))
}

/// WCAG 2.1 relative luminance.
fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG 2.1 contrast ratio of two colours (1 to 21).
pub fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The accent colour in its stored form (`#rrggbb`, lower case), or why it cannot be used.
pub fn check_accent(s: &str) -> Result<String, String> {
    let c = parse_hex(s).ok_or("a colour as #rrggbb")?;
    for (against, what) in [
        (ACCENT_TEXT, "the white text of buttons"),
        (PAGE_BACKGROUND, "the page background (links)"),
        (CARD_BACKGROUND, "the card background (links)"),
    ] {
        let other = parse_hex(against).ok_or("a colour")?;
        let ratio = contrast(c, other);
        if ratio < MIN_CONTRAST {
            return Err(format!(
                "its contrast with {what} is {ratio:.2}:1; WCAG AA needs {MIN_CONTRAST}:1 — choose a darker colour"
            ));
        }
    }
    Ok(format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ratios WCAG's own examples and common tools give.
    #[test]
    fn contrast_is_wcags() {
        let white = (255, 255, 255);
        assert!((contrast((0, 0, 0), white) - 21.0).abs() < 1e-9);
        assert!((contrast(white, white) - 1.0).abs() < 1e-9);
        // #767676 on white is the well-known 4.54:1 (the lightest grey that passes AA).
        let grey = contrast(parse_hex("#767676").unwrap_or_default(), white);
        assert!((grey - 4.54).abs() < 0.01, "{grey}");
    }

    #[test]
    fn the_accent_must_pass_against_every_colour_it_meets() {
        assert_eq!(check_accent("#1F5FBF"), Ok("#1f5fbf".into()));
        assert_eq!(check_accent("#000"), Ok("#000000".into()));
        assert!(check_accent("#ffcc00")
            .err()
            .unwrap_or_default()
            .contains("white text"));
        // Passes on white (4.54) but not on the page background.
        assert!(check_accent("#767676")
            .err()
            .unwrap_or_default()
            .contains("page background"));
        assert!(check_accent("blue").is_err());
        assert!(check_accent("#12345").is_err());
    }
}
