//! Raw signing rates for `make bench`: signatures of a token-sized claim set per second with
//! `jsonwebtoken` (the crate and backend, ring, Gatehouse signs with) for each algorithm
//! Gatehouse offers — RS256 (RSA-2048), ES256 (P-256) and EdDSA (Ed25519) — one thread per core,
//! so each JWT token type can be compared with the physical limit of the same cores.
//!
//! cargo run --release -p gatehouse --example signrate -- SECONDS   (prints one JSON object)

use std::time::{Duration, Instant};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs1::EncodeRsaPrivateKey;

fn key(alg: Algorithm) -> anyhow::Result<EncodingKey> {
    let rng = SystemRandom::new();
    Ok(match alg {
        Algorithm::ES256 => EncodingKey::from_ec_der(
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .as_ref(),
        ),
        Algorithm::EdDSA => EncodingKey::from_ed_der(
            Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .as_ref(),
        ),
        _ => {
            let pem = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?
                .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)?;
            EncodingKey::from_rsa_pem(pem.as_bytes())?
        }
    })
}

fn rate(alg: Algorithm, key: &EncodingKey, secs: u64, threads: usize) -> f64 {
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:3000/oauth2/bench", "sub": "0b6c7c1e-4f5e-4d8a-9a57-0c1d2e3f4a5b",
        "aud": "bench-client", "client_id": "bench-client", "scope": "api",
        "iat": 1_800_000_000u64, "exp": 1_800_003_600u64, "jti": "d41d8cd98f00b204e9800998ecf8427e",
    });
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let signed: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut header = Header::new(alg);
                    header.kid = Some("bench".into());
                    let mut n = 0u64;
                    while Instant::now() < until {
                        if encode(&header, &claims, key).is_ok() {
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
    let mut out = serde_json::json!({"threads": threads});
    for (name, alg) in [
        ("RS256", Algorithm::RS256),
        ("ES256", Algorithm::ES256),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        out[name] = serde_json::json!(rate(alg, &key(alg)?, secs, threads));
    }
    // The RS256 figure under its old name, so earlier results files compare.
    out["per_sec"] = out["RS256"].clone();
    println!("{out}");
    Ok(())
}
