//! Secrets at rest: the private signing keys are sealed with XChaCha20-Poly1305 (RustCrypto's
//! `chacha20poly1305`; random 192-bit nonces, so no nonce bookkeeping across instances) under a
//! key derived from the operator's system secret, the way Ory Hydra seals with its system
//! secret. A list of old secrets is accepted for reading, so the secret can be rotated: rows
//! sealed with an old one are re-sealed with the current one at start-up. A database copied
//! without the secret yields no usable private key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{DomainError, Result};

const PREFIX: &str = "sealed:v1:";
/// Secrets shorter than this are refused: the key is derived from them, not stretched.
pub const MIN_SECRET_LEN: usize = 32;

struct Key {
    id: [u8; 8],
    cipher: XChaCha20Poly1305,
    /// For keyed hashes of short secrets (`SecretBox::keyed_hashes`).
    mac: ring::hmac::Key,
}

impl Key {
    fn new(secret: &str) -> Key {
        let key = Sha256::digest(format!("gatehouse-seal-v1\u{0}{secret}").as_bytes());
        let id_full = Sha256::digest(key);
        let mut id = [0u8; 8];
        id.copy_from_slice(&id_full[..8]);
        let mac = Sha256::digest(format!("gatehouse-mac-v1\u{0}{secret}").as_bytes());
        Key {
            id,
            cipher: XChaCha20Poly1305::new(&key),
            mac: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &mac),
        }
    }
}

/// The current secret (sealing and opening) and the old ones (opening only).
pub struct SecretBox {
    keys: Vec<Key>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBox({} secret(s))", self.keys.len())
    }
}

impl SecretBox {
    /// `secrets[0]` is current; the rest are accepted for opening. Each must be at least
    /// `MIN_SECRET_LEN` characters.
    pub fn new(secrets: &[String]) -> std::result::Result<SecretBox, String> {
        let secrets: Vec<&str> = secrets
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if secrets.is_empty() {
            return Err("no secret given".into());
        }
        if let Some(short) = secrets.iter().position(|s| s.len() < MIN_SECRET_LEN) {
            return Err(format!(
                "secret {} is shorter than {MIN_SECRET_LEN} characters",
                short + 1
            ));
        }
        Ok(SecretBox {
            keys: secrets.into_iter().map(Key::new).collect(),
        })
    }

    /// A new random secret, for the file made on first start.
    pub fn generate_secret() -> String {
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        URL_SAFE_NO_PAD.encode(b)
    }

    /// HMAC-SHA256 of `value` bound to `context`, under each secret (the current one first):
    /// what is stored of a short secret such as a recovery code, so the database alone cannot
    /// test guesses offline. Hex.
    pub fn keyed_hashes(&self, context: &str, value: &str) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| {
                let tag = ring::hmac::sign(&k.mac, format!("{context}\u{0}{value}").as_bytes());
                tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
            })
            .collect()
    }

    /// Seals `plain`, bound to `context` (the row it belongs to: a sealed value cannot be moved
    /// to another row).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String> {
        let key = &self.keys[0];
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| DomainError::Internal("sealing a secret failed".into()))?;
        let mut out = Vec::with_capacity(8 + 24 + sealed.len());
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens a sealed value; also says whether it was sealed with an old secret (or not at all:
    /// a plaintext value from before sealing), so the caller re-seals it.
    pub fn open(&self, stored: &str, context: &str) -> Result<(String, bool)> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            if stored.starts_with("-----BEGIN") {
                return Ok((stored.to_string(), true));
            }
            return Err(DomainError::Internal(
                "a stored secret has an unknown format".into(),
            ));
        };
        let raw = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|e| DomainError::Internal(format!("a stored secret is malformed: {e}")))?;
        if raw.len() < 8 + 24 + 16 {
            return Err(DomainError::Internal("a stored secret is truncated".into()));
        }
        let (id, rest) = raw.split_at(8);
        let (nonce, sealed) = rest.split_at(24);
        let (i, key) = self
            .keys
            .iter()
            .enumerate()
            .find(|(_, k)| k.id == id)
            .ok_or_else(|| {
                DomainError::Internal(
                    "the signing keys were sealed with a secret this instance does not have: \
                     give it the same GATEHOUSE_SECRET_KEY (or --secret-key-file) as the others"
                        .into(),
                )
            })?;
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                DomainError::Internal("a stored secret does not open (tampered?)".into())
            })?;
        let plain = String::from_utf8(plain)
            .map_err(|_| DomainError::Internal("a stored secret is not text".into()))?;
        Ok((plain, i != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sbox(s: &[&str]) -> SecretBox {
        SecretBox::new(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())
            .unwrap_or_else(|e| unreachable!("{e}"))
    }
    const A: &str = "first-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "second-secret-bbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn sealed_values_open_only_with_the_secret_and_in_their_row() {
        let a = sbox(&[A]);
        let sealed = a.seal("private key", "kid-1").unwrap_or_default();
        assert!(!sealed.contains("private"));
        assert_eq!(
            a.open(&sealed, "kid-1").ok(),
            Some(("private key".into(), false))
        );
        assert!(a.open(&sealed, "kid-2").is_err(), "bound to its row");
        assert!(
            sbox(&[B]).open(&sealed, "kid-1").is_err(),
            "another secret opens nothing"
        );
        assert_ne!(
            a.seal("private key", "kid-1").ok(),
            Some(sealed),
            "fresh nonce each time"
        );
    }

    #[test]
    fn old_secrets_open_and_ask_for_resealing() {
        let sealed = sbox(&[A]).seal("k", "c").unwrap_or_default();
        assert_eq!(
            sbox(&[B, A]).open(&sealed, "c").ok(),
            Some(("k".into(), true))
        );
        assert_eq!(
            sbox(&[B])
                .open("-----BEGIN RSA PRIVATE KEY-----", "c")
                .ok()
                .map(|x| x.1),
            Some(true),
            "plaintext from before sealing is re-sealed"
        );
        assert!(SecretBox::new(&["short".into()]).is_err());
        assert!(SecretBox::new(&[]).is_err());
    }
}
