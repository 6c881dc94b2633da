//! A person's second factors as their security page and the administrators see them (SPEC §6a).

use serde::{Deserialize, Serialize};

/// What protects a person's sign-in besides the password.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Factors {
    /// An authenticator app is turned on.
    pub totp: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
    pub passkeys: Vec<PasskeyInfo>,
}

impl Factors {
    /// Whether sign-in asks for a second step.
    pub fn any(&self) -> bool {
        self.totp || !self.passkeys.is_empty()
    }
    /// The factor names an administrator sees (`totp`, `passkey`).
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.totp {
            v.push("totp");
        }
        if !self.passkeys.is_empty() {
            v.push("passkey");
        }
        v
    }
}

/// One passkey of a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyInfo {
    /// The credential id (base64url), which the remove button names.
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// The authenticator may sync it to other devices (backup eligible), and has (backed up).
    pub backup_eligible: bool,
    pub backed_up: bool,
}

/// An authenticator app being set up: the secret (base32), the `otpauth://` link and its QR
/// code, until one correct code turns it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    pub secret: String,
    pub url: String,
    pub qr: QrCode,
}

/// A QR code's dark modules, row by row as runs `(x, length)`: what the page draws as SVG.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrCode {
    /// Modules per side, without the quiet zone.
    pub size: u32,
    pub rows: Vec<Vec<(u32, u32)>>,
}

impl QrCode {
    /// From a square of modules (`true` dark), row-major.
    pub fn from_modules(size: u32, dark: &[bool]) -> QrCode {
        let rows = dark
            .chunks(size.max(1) as usize)
            .map(|row| {
                let mut runs = Vec::new();
                let mut x = 0;
                while x < row.len() {
                    if row[x] {
                        let start = x;
                        while x < row.len() && row[x] {
                            x += 1;
                        }
                        runs.push((start as u32, (x - start) as u32));
                    } else {
                        x += 1;
                    }
                }
                runs
            })
            .collect();
        QrCode { size, rows }
    }
}

/// How a person proved who they are (RFC 8176 `amr` values) and what that is worth (`acr`).
pub mod amr {
    pub const PASSWORD: &str = "pwd";
    pub const OTP: &str = "otp";
    pub const HARDWARE_KEY: &str = "hwk";
    pub const MULTI_FACTOR: &str = "mfa";
    /// Signed in at an upstream OpenID provider (RFC 8176 `fed`).
    pub const FEDERATED: &str = "fed";

    /// `acr` of a sign-in with one factor and with two (Keycloak's levels of assurance).
    pub const ACR_ONE_FACTOR: &str = "1";
    pub const ACR_TWO_FACTORS: &str = "2";

    /// `acr` for `amr`.
    pub fn acr(amr: &[String]) -> &'static str {
        if amr.iter().any(|m| m == MULTI_FACTOR) {
            ACR_TWO_FACTORS
        } else {
            ACR_ONE_FACTOR
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_rows_are_runs_of_dark_modules() {
        let dark = [
            true, true, false, //
            false, false, false, //
            true, false, true,
        ];
        let q = QrCode::from_modules(3, &dark);
        assert_eq!(q.rows, vec![vec![(0, 2)], vec![], vec![(0, 1), (2, 1)]]);
    }

    #[test]
    fn two_factors_are_level_two() {
        assert_eq!(amr::acr(&["pwd".into()]), "1");
        assert_eq!(amr::acr(&["pwd".into(), "otp".into(), "mfa".into()]), "2");
    }
}
