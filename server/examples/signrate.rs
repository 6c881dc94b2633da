//! Raw RS256 signing rate for `make bench`: RSA-2048 signatures of a token-sized claim set per
//! second with `jsonwebtoken` (the crate and backend Gatehouse signs with), one thread per core,
//! so the JWT token endpoint can be compared with the physical limit of the same cores.
//!
//! cargo run --release -p gatehouse --example signrate -- SECONDS   (prints one JSON object)

use std::time::{Duration, Instant};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;

fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let pem = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)?;
    let key = EncodingKey::from_rsa_pem(pem.as_bytes())?;
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:3000/oauth2/bench", "sub": "0b6c7c1e-4f5e-4d8a-9a57-0c1d2e3f4a5b",
        "aud": "bench-client", "client_id": "bench-client", "scope": "api",
        "iat": 1_800_000_000u64, "exp": 1_800_003_600u64, "jti": "d41d8cd98f00b204e9800998ecf8427e",
    });
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let signed: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut header = Header::new(Algorithm::RS256);
                    header.kid = Some("bench".into());
                    let mut n = 0u64;
                    while Instant::now() < until {
                        if encode(&header, &claims, &key).is_ok() {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let per_sec = signed as f64 / started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"alg": "RS256", "threads": threads, "per_sec": per_sec.round()})
    );
    Ok(())
}
