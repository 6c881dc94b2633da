//! DPoP (RFC 9449, SPEC §3c): a client proves, with each request, that it holds a private key,
//! by a short JWT (the proof) signed with it and naming the request (`htm`, `htu`), a moment
//! (`iat`, within 60 s) and a unique `jti`. Tokens issued with a proof are bound to the key's
//! thumbprint (`cnf.jkt`, RFC 7638) and are then accepted only with a proof by that key —
//! a stolen token alone is useless.
//!
//! `check` is the pure part (form, key, signature, request, time, `ath`); `Services::accept_proof`
//! adds what needs the deployment: the server nonce (`DPoP-Nonce`, when the operator asks for
//! one) and the `jti` used once on every instance (`once`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::Services;

/// The signing algorithms a proof may use (`dpop_signing_alg_values_supported`).
pub const ALGORITHMS: [&str; 3] = ["ES256", "EdDSA", "RS256"];
/// The same, space-separated, for `WWW-Authenticate: DPoP algs="…"`.
pub const ALGORITHMS_LIST: &str = "ES256 EdDSA RS256";
/// A proof's `iat` may be this far from the server's clock, either way.
pub const IAT_WINDOW: i64 = 60;
/// A server nonce is good for its window of this many seconds and the next.
const NONCE_WINDOW: i64 = 300;
/// The largest proof read (an RSA 4096 key and long claims fit well within it).
const MAX_PROOF: usize = 8 * 1024;
/// Members of a JWK that only a private key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a proof was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// `invalid_dpop_proof`, with the reason.
    Invalid(&'static str),
    /// `use_dpop_nonce`: the server wants its current nonce in the proof (sent in `DPoP-Nonce`).
    UseNonce,
    /// The store of used ids could not be reached: fail closed, as a server error.
    Internal(String),
}

/// A proof that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The key's RFC 7638 SHA-256 thumbprint, base64url: what a bound token names in `cnf.jkt`.
    pub jkt: String,
    jti: String,
    iat: i64,
    nonce: Option<String>,
}

#[derive(Deserialize)]
struct ProofHeader {
    typ: Option<String>,
    alg: String,
    jwk: Map<String, Value>,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: f64,
    ath: Option<String>,
    nonce: Option<String>,
}

/// `cnf` of a bound token (RFC 9449 §6).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

/// base64url(SHA-256(`s`)): a thumbprint's and `ath`'s encoding.
pub fn sha256_b64(s: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(s))
}

/// An URL as `htu` compares it (RFC 9449 §4.3): parsed and normalised (scheme and host case,
/// default port, dot segments, percent-encoding), without query and fragment.
pub fn normal_htu(u: &str) -> Option<String> {
    let mut url = url::Url::parse(u).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    // RFC 3986 §6.2.2.2: percent-encoded unreserved characters are the characters themselves.
    let path = decode_unreserved(url.path());
    url.set_path(&path);
    Some(url.into())
}

/// `%41` → `A` for the unreserved characters (ALPHA, DIGIT, `-._~`); every other escape stays,
/// with its hex digits in upper case (RFC 3986 §6.2.2.1).
fn decode_unreserved(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let c = (h * 16 + l) as u8;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    out.push(c as char);
                } else {
                    out.push('%');
                    out.push((b[i + 1] as char).to_ascii_uppercase());
                    out.push((b[i + 2] as char).to_ascii_uppercase());
                }
                i += 3;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

fn is_b64url(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The key of a proof's header: its algorithm, its thumbprint and the key to verify with. Only a
/// public key of the family `alg` names, with the members RFC 7638 needs as base64url strings.
fn public_key(
    alg: &str,
    jwk: &Map<String, Value>,
) -> Result<(Algorithm, String, DecodingKey), &'static str> {
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err("the proof's jwk holds a private key");
    }
    let text = |name: &str| jwk.get(name).and_then(Value::as_str).unwrap_or_default();
    let member = |name: &str| {
        let v = text(name);
        is_b64url(v)
            .then_some(v)
            .ok_or("the proof's jwk lacks a member its key type needs")
    };
    let bad_key = |_| "the proof's jwk is not a usable public key";
    match (alg, text("kty")) {
        ("ES256", "EC") if text("crv") == "P-256" => {
            let (x, y) = (member("x")?, member("y")?);
            // The canonical form of RFC 7638 §3.2: required members, sorted, no spaces (the
            // values are base64url, so they need no escaping).
            let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
            let key = DecodingKey::from_ec_components(x, y).map_err(bad_key)?;
            Ok((Algorithm::ES256, sha256_b64(canonical.as_bytes()), key))
        }
        ("EdDSA", "OKP") if text("crv") == "Ed25519" => {
            let x = member("x")?;
            let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
            let key = DecodingKey::from_ed_components(x).map_err(bad_key)?;
            Ok((Algorithm::EdDSA, sha256_b64(canonical.as_bytes()), key))
        }
        ("RS256", "RSA") => {
            let (n, e) = (member("n")?, member("e")?);
            // At least 2048 bits (RFC 7518 §3.3).
            if n.trim_start_matches('A').len() * 6 < 2040 {
                return Err("the proof's RSA key is shorter than 2048 bits");
            }
            let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
            let key = DecodingKey::from_rsa_components(n, e).map_err(bad_key)?;
            Ok((Algorithm::RS256, sha256_b64(canonical.as_bytes()), key))
        }
        (a, _) if !ALGORITHMS.contains(&a) => {
            Err("the proof's alg is not one of ES256, EdDSA, RS256")
        }
        _ => Err("the proof's jwk does not fit its alg"),
    }
}

/// Checks a proof for a request `htm htu` made at `now`: one JWT of type `dpop+jwt`, signed by
/// the public key in its header with an allowed algorithm, naming this method and URL, issued
/// within `IAT_WINDOW`, with a `jti`; with a token (`access_token`), `ath` must be its hash.
/// Not checked here: the `jti`'s single use and the server nonce (`Services::accept_proof`).
pub fn check(
    proof: &str,
    htm: &str,
    htu: &str,
    access_token: Option<&str>,
    now: i64,
) -> Result<Proof, &'static str> {
    let malformed = "the DPoP proof is not a signed JWT";
    if proof.len() > MAX_PROOF {
        return Err("the DPoP proof is too long");
    }
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed);
    };
    let header: ProofHeader = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(malformed)?;
    if !header
        .typ
        .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"))
    {
        return Err("the proof's typ is not dpop+jwt");
    }
    let (alg, jkt, key) = public_key(&header.alg, &header.jwk)?;
    let signed = &proof[..h.len() + 1 + p.len()];
    if !jsonwebtoken::crypto::verify(sig, signed.as_bytes(), &key, alg).unwrap_or(false) {
        return Err("the proof's signature does not verify with its jwk");
    }
    let claims: ProofClaims = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the proof lacks jti, htm, htu or iat")?;
    if claims.htm != htm {
        return Err("the proof's htm is not this request's method");
    }
    if normal_htu(&claims.htu).is_none_or(|u| Some(u) != normal_htu(htu)) {
        return Err("the proof's htu is not this request's URL");
    }
    if !claims.iat.is_finite() || (claims.iat - now as f64).abs() > IAT_WINDOW as f64 {
        return Err("the proof's iat is not within 60 seconds of now");
    }
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err("the proof's jti is missing or too long");
    }
    if let Some(token) = access_token {
        let expected = sha256_b64(token.as_bytes());
        if claims.ath.as_deref() != Some(expected.as_str()) {
            return Err("the proof's ath is not the hash of the access token");
        }
    }
    Ok(Proof {
        jkt,
        jti: claims.jti,
        iat: claims.iat as i64,
        nonce: claims.nonce,
    })
}

impl Services {
    /// Whether proofs must carry the server's nonce (`GATEHOUSE_DPOP_NONCE`).
    pub fn dpop_nonce_required(&self) -> bool {
        self.dpop_nonce.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The nonce to hand out now: its window and a MAC of it under the system secret, so
    /// every instance accepts what any other issued, with nothing stored.
    pub fn dpop_nonce(&self) -> String {
        self.nonce_for(crate::clock::now() / NONCE_WINDOW)
    }

    fn nonce_for(&self, window: i64) -> String {
        let mac = self
            .secrets
            .keyed_hashes("dpop-nonce", &window.to_string())
            .swap_remove(0);
        format!("{window}.{}", &mac[..32])
    }

    fn nonce_valid(&self, nonce: &str) -> bool {
        let Some((window, mac)) = nonce.split_once('.') else {
            return false;
        };
        let Ok(window) = window.parse::<i64>() else {
            return false;
        };
        let current = crate::clock::now() / NONCE_WINDOW;
        (window == current || window == current - 1)
            && self
                .secrets
                .keyed_hashes("dpop-nonce", &window.to_string())
                .iter()
                .any(|m| subtle::ConstantTimeEq::ct_eq(&m.as_bytes()[..32], mac.as_bytes()).into())
    }

    /// A proof for the token request `htm htu`: checked, with the server's nonce when one is
    /// required, and its `jti` used for the first time on any instance.
    pub async fn accept_proof(
        &self,
        proof: &str,
        htm: &str,
        htu: &str,
    ) -> Result<Proof, ProofError> {
        self.accept_proof_with(proof, htm, htu, None, true).await
    }

    async fn accept_proof_with(
        &self,
        proof: &str,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
        nonce_applies: bool,
    ) -> Result<Proof, ProofError> {
        let p = check(proof, htm, htu, access_token, crate::clock::now())
            .map_err(ProofError::Invalid)?;
        if nonce_applies
            && self.dpop_nonce_required()
            && !p.nonce.as_deref().is_some_and(|n| self.nonce_valid(n))
        {
            return Err(ProofError::UseNonce);
        }
        // Remembered while the proof could still be accepted (its iat window), and a minute more.
        let key = crate::tokens::sha256_hex(&format!("dpop\u{0}{}\u{0}{}", p.jkt, p.jti));
        let first = self
            .first_use(key, p.iat.max(crate::clock::now()) + IAT_WINDOW + 60)
            .await
            .map_err(ProofError::Internal)?;
        if !first {
            return Err(ProofError::Invalid("the proof was used before (replay)"));
        }
        Ok(p)
    }

    /// Stores a one-time id (its hash) until `expires_at`: `true` the first time on any instance.
    pub(crate) async fn first_use(&self, hash: String, expires_at: i64) -> Result<bool, String> {
        self.once_writer
            .get_or_init(|| {
                super::once::OnceWriter::new(self.store.writer.clone(), self.store.backend)
            })
            .first_use(hash, expires_at)
            .await
    }
}

/// How a token came with a request to a protected resource (Gatehouse's API, UserInfo).
pub struct Presented<'a> {
    pub token: &'a str,
    /// `Authorization: DPoP …` rather than `Bearer …`.
    pub dpop_scheme: bool,
    /// The request's `DPoP` header.
    pub proof: Option<&'a str>,
    pub htm: &'a str,
    /// The request's URL as the client sees it (the public URL and the path).
    pub htu: String,
}

/// Why a valid token is not accepted the way it came (RFC 9449 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingError {
    /// A DPoP-bound token sent as a Bearer token, or without a proof.
    ProofNeeded,
    /// An unbound token sent with the DPoP scheme.
    NotBound,
    /// The proof is not valid, not for this request or token, or by another key.
    Proof(ProofError),
}

impl Services {
    /// Whether a valid token (`jkt`: its binding) came the way its binding asks: a bound one
    /// with the DPoP scheme and a proof by its key naming this request and token (`ath`), an
    /// unbound one as a Bearer token. The server nonce is not asked for here (it is a token
    /// endpoint matter in this deployment).
    pub async fn check_presented(
        &self,
        jkt: Option<&str>,
        p: &Presented<'_>,
    ) -> Result<(), BindingError> {
        match (jkt, p.dpop_scheme, p.proof) {
            (None, false, _) => Ok(()),
            (None, true, _) => Err(BindingError::NotBound),
            (Some(_), false, _) | (Some(_), true, None) => Err(BindingError::ProofNeeded),
            (Some(jkt), true, Some(proof)) => {
                let checked = self
                    .accept_proof_with(proof, p.htm, &p.htu, Some(p.token), false)
                    .await
                    .map_err(BindingError::Proof)?;
                if checked.jkt != jkt {
                    return Err(BindingError::Proof(ProofError::Invalid(
                        "the proof is signed by another key than the token is bound to",
                    )));
                }
                Ok(())
            }
        }
    }
}

#[cfg(any(test, feature = "testing"))]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
pub mod testing {
    //! Proofs signed the way a client signs them, for tests (feature `testing`).
    use super::*;
    use jsonwebtoken::EncodingKey;
    use ring::signature::KeyPair;

    pub struct ClientKey {
        pub alg: Algorithm,
        pub jwk: Value,
        key: EncodingKey,
    }

    impl ClientKey {
        pub fn es256() -> ClientKey {
            let rng = ring::rand::SystemRandom::new();
            let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("key");
            let pair =
                ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("pair");
            let point = pair.public_key().as_ref();
            ClientKey {
                alg: Algorithm::ES256,
                jwk: serde_json::json!({"kty": "EC", "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])}),
                key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            }
        }

        pub fn eddsa() -> ClientKey {
            let rng = ring::rand::SystemRandom::new();
            let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
            let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
            ClientKey {
                alg: Algorithm::EdDSA,
                jwk: serde_json::json!({"kty": "OKP", "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())}),
                key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            }
        }

        pub fn rs256(bits: u32) -> ClientKey {
            let rsa = openssl::rsa::Rsa::generate(bits).expect("rsa");
            ClientKey {
                alg: Algorithm::RS256,
                jwk: serde_json::json!({"kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()), "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec())}),
                key: EncodingKey::from_rsa_der(&rsa.private_key_to_der().expect("der")),
            }
        }

        /// A proof with these claims (and this key's jwk in the header, unless `jwk` says other,
        /// written as given — a private member included).
        pub fn sign(&self, typ: &str, jwk: Option<Value>, claims: &Value) -> String {
            let alg = match self.alg {
                Algorithm::ES256 => "ES256",
                Algorithm::EdDSA => "EdDSA",
                _ => "RS256",
            };
            let header = serde_json::json!({"typ": typ, "alg": alg,
                "jwk": jwk.unwrap_or_else(|| self.jwk.clone())});
            let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
            let message = format!("{}.{}", b64(&header), b64(claims));
            let sig =
                jsonwebtoken::crypto::sign(message.as_bytes(), &self.key, self.alg).expect("sign");
            format!("{message}.{sig}")
        }

        /// A fresh proof (now, a random jti) for `htm htu`, with `ath` for `token` when given.
        pub fn fresh(&self, htm: &str, htu: &str, token: Option<&str>) -> String {
            let mut claims = serde_json::json!({"htm": htm, "htu": htu,
                "iat": crate::clock::now(), "jti": crate::tokens::random_token(16)});
            if let Some(t) = token {
                claims["ath"] = Value::from(sha256_b64(t.as_bytes()));
            }
            self.sign("dpop+jwt", None, &claims)
        }

        /// This key's RFC 7638 thumbprint, computed apart from the code under test: the jwk
        /// holds only the required members, written sorted and without spaces.
        pub fn jkt(&self) -> String {
            let mut members: Vec<(&String, &Value)> = self
                .jwk
                .as_object()
                .map(|m| m.iter().collect())
                .unwrap_or_default();
            members.sort_by_key(|(k, _)| k.as_str());
            let members: Vec<String> = members
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
                .collect();
            sha256_b64(format!("{{{}}}", members.join(",")).as_bytes())
        }

        pub fn proof(&self, htm: &str, htu: &str, iat: i64, jti: &str) -> String {
            self.sign(
                "dpop+jwt",
                None,
                &serde_json::json!({"htm": htm, "htu": htu, "iat": iat, "jti": jti}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::ClientKey;
    use super::*;
    use serde_json::json;

    const HTU: &str = "https://id.example/oauth2/token/app";

    #[test]
    fn a_proof_by_each_algorithm_checks_out_with_its_thumbprint() {
        for key in [
            ClientKey::es256(),
            ClientKey::eddsa(),
            ClientKey::rs256(2048),
        ] {
            let p =
                check(&key.proof("POST", HTU, 1000, "j1"), "POST", HTU, None, 1000).expect("valid");
            assert_eq!(p.jkt, key.jkt(), "{:?}", key.alg);
        }
    }

    /// RFC 7638 §3.1's example key and thumbprint.
    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        let jwk = json!({"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        let (_, jkt, _) = public_key("RS256", jwk.as_object().expect("object")).expect("key");
        assert_eq!(jkt, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn each_broken_rule_is_refused() {
        let key = ClientKey::es256();
        let other = ClientKey::es256();
        let t = 10_000;
        let ok = |claims: Value| key.sign("dpop+jwt", None, &claims);
        let base = json!({"htm": "POST", "htu": HTU, "iat": t, "jti": "j"});
        let with = |k: &str, v: Value| {
            let mut c = base.clone();
            c[k] = v;
            c
        };
        let cases: Vec<(String, &str)> = vec![
            (key.sign("JWT", None, &base), "typ"),
            (
                key.sign("dpop+jwt", Some(other.jwk.clone()), &base),
                "signature",
            ),
            (ok(with("htm", json!("GET"))), "htm"),
            (
                ok(with("htu", json!("https://id.example/oauth2/token/other"))),
                "htu",
            ),
            (ok(with("iat", json!(t - 61))), "iat"),
            (ok(with("iat", json!(t + 61))), "iat"),
            (ok(with("jti", json!(""))), "jti"),
            (ok(with("jti", json!("x".repeat(257)))), "jti"),
            (ok(json!({"htm": "POST", "htu": HTU, "iat": t})), "lacks"),
            ("a.b".into(), "not a signed JWT"),
            ("x".repeat(9000), "too long"),
        ];
        for (proof, why) in cases {
            let e = check(&proof, "POST", HTU, None, t).expect_err(why);
            assert!(e.contains(why), "{why}: {e}");
        }
        // A private key in the header, and a key of another family than alg.
        let mut private = key.jwk.clone();
        private["d"] = json!("AAAA");
        let e = check(
            &key.sign("dpop+jwt", Some(private), &base),
            "POST",
            HTU,
            None,
            t,
        );
        assert_eq!(e, Err("the proof's jwk holds a private key"));
        let ed = ClientKey::eddsa();
        let e = check(
            &key.sign("dpop+jwt", Some(ed.jwk.clone()), &base),
            "POST",
            HTU,
            None,
            t,
        );
        assert_eq!(e, Err("the proof's jwk does not fit its alg"));
        // RSA keys under 2048 bits.
        let small = openssl::rsa::Rsa::generate(1024).expect("rsa");
        let small = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(small.n().to_vec()),
            "e": URL_SAFE_NO_PAD.encode(small.e().to_vec())});
        let rsa = ClientKey::rs256(2048);
        let e = check(
            &rsa.sign("dpop+jwt", Some(small), &base),
            "POST",
            HTU,
            None,
            t,
        );
        assert_eq!(e, Err("the proof's RSA key is shorter than 2048 bits"));
        // Within the window either way; htu compared normalised, without query or fragment.
        assert!(check(&ok(with("iat", json!(t - 60))), "POST", HTU, None, t).is_ok());
        let loose = ok(with(
            "htu",
            json!("HTTPS://ID.example:443/oauth2/token/app?x=1#f"),
        ));
        assert!(check(&loose, "POST", HTU, None, t).is_ok());
        let escaped = ok(with(
            "htu",
            json!("https://id.example/%6Fauth2/token/%61pp"),
        ));
        assert!(check(&escaped, "POST", HTU, None, t).is_ok());
        let other = ok(with("htu", json!("https://id.example/oauth2%2Ftoken/app")));
        assert!(
            check(&other, "POST", HTU, None, t).is_err(),
            "an escaped / is not a /"
        );
    }

    #[test]
    fn ath_binds_the_proof_to_the_token() {
        let key = ClientKey::es256();
        let htu = "https://id.example/api/v1/apps";
        let claims = |ath: Option<&str>| {
            let mut c = json!({"htm": "GET", "htu": htu, "iat": 5, "jti": "j"});
            if let Some(a) = ath {
                c["ath"] = json!(a);
            }
            key.sign("dpop+jwt", None, &c)
        };
        let right = sha256_b64(b"the-token");
        assert!(check(&claims(Some(&right)), "GET", htu, Some("the-token"), 5).is_ok());
        for proof in [claims(None), claims(Some(&sha256_b64(b"another")))] {
            assert_eq!(
                check(&proof, "GET", htu, Some("the-token"), 5),
                Err("the proof's ath is not the hash of the access token")
            );
        }
    }
}
