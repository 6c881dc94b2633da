//! Raw signing rates for `make bench`: signatures of a token-sized claim set per second for each
//! algorithm Gatehouse offers — RS256 (RSA-2048), ES256 (P-256) and EdDSA (Ed25519) — with the
//! signer Gatehouse's token endpoint uses (`domain::keys::SigningKey`: OpenSSL for RS256,
//! jsonwebtoken + ring for the others), one thread per core, so each JWT token type can be
//! compared with the physical limit of the same cores. `RS256_ring` is jsonwebtoken + ring's
//! RS256, the backend Gatehouse signed RS256 with before, for comparison.
//!
//! cargo run --release -p gatehouse --example signrate -- SECONDS   (prints one JSON object)

use std::time::{Duration, Instant};

use domain::keys::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;

fn rate(alg: Algorithm, sign: &(dyn Fn(&Header) -> bool + Sync), secs: u64, threads: usize) -> f64 {
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let signed: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut header = Header::new(alg);
                    header.kid = Some("bench".into());
                    header.typ = Some("at+jwt".into());
                    let mut n = 0u64;
                    while Instant::now() < until {
                        if sign(&header) {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    (signed as f64 / started.elapsed().as_secs_f64()).round()
}

fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:3000/oauth2/bench", "sub": "0b6c7c1e-4f5e-4d8a-9a57-0c1d2e3f4a5b",
        "aud": "bench", "client_id": "bench-client", "scope": "api",
        "iat": 1_800_000_000u64, "nbf": 1_800_000_000u64, "exp": 1_800_003_600u64,
        "jti": "d41d8cd98f00b204e9800998ecf8427e",
    });
    let mut out = serde_json::json!({"threads": threads, "RS256_backend": "openssl"});
    for (name, alg) in [
        ("RS256", Algorithm::RS256),
        ("ES256", Algorithm::ES256),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let key = SigningKey::generate(alg).map_err(|e| anyhow::anyhow!("{e}"))?;
        out[name] = serde_json::json!(rate(alg, &|h| key.sign(h, &claims).is_ok(), secs, threads));
    }
    let pem = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)?;
    let ring_key = EncodingKey::from_rsa_pem(pem.as_bytes())?;
    out["RS256_ring"] = serde_json::json!(rate(
        Algorithm::RS256,
        &|h| jsonwebtoken::encode(h, &claims, &ring_key).is_ok(),
        secs,
        threads
    ));
    // The RS256 figure under its old name, so earlier results files compare.
    out["per_sec"] = out["RS256"].clone();
    println!("{out}");
    Ok(())
}
