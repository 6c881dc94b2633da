//! Random tokens and their hashes: what is handed out is never stored, only its SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `bytes` random bytes, URL-safe base64 without padding. From `rand`'s thread-local CSPRNG
/// (ChaCha12, seeded and periodically reseeded from the OS): the same strength as reading the
/// OS generator, without a system call per token on the token endpoint's hot path.
pub fn random_token(bytes: usize) -> String {
    let mut buf = [0u8; 64];
    let mut heap;
    let buf = if bytes <= buf.len() {
        &mut buf[..bytes]
    } else {
        heap = vec![0u8; bytes];
        &mut heap[..]
    };
    rand::thread_rng().fill_bytes(buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A new opaque token (access or refresh), 54 URL-safe characters: the issue time in unix
/// milliseconds as 11 lowercase hex digits, then the secret, 256 bits as `random_token(32)`.
pub fn opaque_token() -> String {
    format!("{:011x}{}", crate::clock::now_ms().max(0), random_token(32))
}

/// The issue-time prefix of an `opaque_token` (54 characters, 11 hex digits first); `None` for
/// tokens issued before it (43 characters) and anything else.
fn issue_time_prefix(token: &str) -> Option<&str> {
    let time = token.get(..11).filter(|_| token.len() == 54)?;
    time.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        .then_some(time)
}

/// The key an opaque token is stored under, from the token and its SHA-256. For
/// `opaque_token`'s tokens: the issue time, a dot and the hex SHA-256 of the whole token, so
/// keys sort in the order tokens are issued and a batch of new tokens lands on the last page
/// or two of the index (with the bare hash, a random page each: most of what the token
/// endpoint wrote to the disk). Tokens without such a prefix (issued before it) keep the bare
/// hex SHA-256. Either way the key holds nothing a caller can derive without the secret.
pub fn opaque_token_key(token: &str, digest: &[u8; 32]) -> String {
    match issue_time_prefix(token) {
        Some(time) => {
            let mut key = String::with_capacity(12 + 64);
            key.push_str(time);
            key.push('.');
            key.push_str(&hex(digest));
            key
        }
        None => hex(digest),
    }
}

/// `opaque_token_key` computing the SHA-256 itself.
pub fn opaque_token_key_of(token: &str) -> String {
    opaque_token_key(token, &Sha256::digest(token.as_bytes()).into())
}

/// Hex SHA-256, the form in which tokens, codes and session ids are stored.
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// Lowercase hex, in one allocation.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Equality that takes the same time wherever the strings differ (secrets, CSRF tokens).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// New opaque tokens carry 256 random bits after their issue time; their keys sort in issue
    /// order and still depend on the whole token; tokens issued before the prefix keep the
    /// bare hash as their key; a prefix that is not 11 hex digits is not taken as one.
    #[test]
    fn opaque_tokens_are_stored_in_issue_order() {
        let a = opaque_token();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = opaque_token();
        assert_eq!(a.len(), 54);
        let (time, secret) = a.split_at(11);
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).expect("secret").len(), 32);
        let (ka, kb) = (opaque_token_key_of(&a), opaque_token_key_of(&b));
        assert!(ka < kb, "{ka} sorts before {kb}");
        assert_eq!(ka, format!("{time}.{}", sha256_hex(&a)));
        let forged = format!("{time}{}", random_token(32));
        assert_ne!(opaque_token_key_of(&forged), ka);
        let old = random_token(32);
        assert_eq!(opaque_token_key_of(&old), sha256_hex(&old));
        let tail = random_token(32);
        for odd in [
            format!("0123456789A{tail}"),
            format!("0123456789g{tail}"),
            format!("0123456789a{tail}x"),
            "é".repeat(27),
        ] {
            assert_eq!(opaque_token_key_of(&odd), sha256_hex(&odd), "{odd}");
        }
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
