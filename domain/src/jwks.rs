//! The public keys a confidential client registers for `private_key_jwt` (its `jwks` field):
//! what a JWK set may hold, checked once where it is stored.

/// Checks a client's public JWK set (its `jwks` field) by the rules the OpenAPI document states:
/// an object with only `keys`, 1-10 public RSA, EC (P-256, P-384) or OKP (Ed25519) signing
/// keys, each with only its own members, as canonical unpadded base64url. Returns it as stored.
pub fn check_jwks(v: &serde_json::Value) -> crate::Result<String> {
    use serde_json::Value;
    static B64: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$",
        )
        .ok()
    });
    let bad = |m: String| crate::DomainError::invalid("jwks", m);
    let Some(top) = v.as_object() else {
        return Err(bad("a JWK set is an object with a \"keys\" array".into()));
    };
    if top.keys().any(|k| k != "keys") {
        return Err(bad("a JWK set holds only \"keys\"".into()));
    }
    let keys = top
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("a JWK set is an object with a \"keys\" array".into()))?;
    if keys.is_empty() || keys.len() > 10 {
        return Err(bad("a JWK set holds 1 to 10 keys".into()));
    }
    let mut stored = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let at = |m: &str| bad(format!("keys[{i}]: {m}"));
        let key = k.as_object().ok_or_else(|| at("a key is an object"))?;
        let text = |name: &str| {
            key.get(name).map(|v| {
                v.as_str()
                    .ok_or_else(|| at(&format!("{name} must be a string")))
            })
        };
        let kty = text("kty").ok_or_else(|| at("kty is required"))??;
        // Members each key type may have, with the longest base64url value allowed.
        let (members, algs, curves): (&[(&str, usize)], &[&str], &[&str]) = match kty {
            "RSA" => (
                &[("n", 1400), ("e", 16)],
                &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
                &[],
            ),
            "EC" => (
                &[("x", 96), ("y", 96)],
                &["ES256", "ES384"],
                &["P-256", "P-384"],
            ),
            "OKP" => (&[("x", 64)], &["EdDSA", "Ed25519"], &["Ed25519"]),
            _ => return Err(at("kty must be RSA, EC or OKP (public signing keys only)")),
        };
        for name in key.keys() {
            let known = ["kty", "kid", "use", "alg"].contains(&name.as_str())
                || (name == "crv" && !curves.is_empty())
                || members.iter().any(|(m, _)| m == name);
            if ["d", "p", "q", "dp", "dq", "qi", "k"].contains(&name.as_str()) {
                return Err(at(&format!(
                    "only public keys belong here (the private member {name:?} was given)"
                )));
            }
            if !known {
                return Err(at(&format!(
                    "{name:?} does not belong in a public {kty} key"
                )));
            }
        }
        if let Some(kid) = text("kid") {
            if kid?.chars().count() > 256 {
                return Err(at("kid is longer than 256 characters"));
            }
        }
        if let Some(u) = text("use") {
            if u? != "sig" {
                return Err(at("use must be sig"));
            }
        }
        let mut key = key.clone();
        if let Some(a) = text("alg") {
            let a = a?;
            if !algs.contains(&a) {
                return Err(at(&format!("alg must be one of {}", algs.join(", "))));
            }
            if a == "Ed25519" {
                // RFC 9864's fully-specified name (what WebCrypto exports) is EdDSA on Ed25519.
                key.insert("alg".into(), Value::String("EdDSA".into()));
            }
        }
        if !curves.is_empty() {
            let crv = text("crv").ok_or_else(|| at("crv is required"))??;
            if !curves.contains(&crv) {
                return Err(at(&format!("crv must be one of {}", curves.join(", "))));
            }
        }
        for (name, max) in members {
            let value = text(name).ok_or_else(|| at(&format!("{name} is required")))??;
            let canonical = B64.as_ref().is_some_and(|r| r.is_match(value));
            if value.len() > *max || !canonical {
                return Err(at(&format!(
                    "{name} must be base64url without padding, at most {max} characters"
                )));
            }
        }
        let value = Value::Object(key);
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(value.clone()).map_err(|e| at(&format!("not a JWK: {e}")))?;
        jsonwebtoken::DecodingKey::from_jwk(&jwk)
            .map_err(|e| at(&format!("not a usable public key: {e}")))?;
        stored.push(value);
    }
    Ok(serde_json::json!({ "keys": stored }).to_string())
}

#[cfg(test)]
mod tests {
    use super::check_jwks;
    use serde_json::json;

    #[test]
    fn a_jwk_set_holds_public_signing_keys_and_nothing_else() {
        let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r", "use": "sig", "alg": "RS256"});
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"});
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "alg": "Ed25519"});
        let stored = check_jwks(&json!({"keys": [rsa, ec, okp]}));
        assert!(stored
            .as_deref()
            .is_ok_and(|s| s.contains("\"EdDSA\"") && !s.contains("\"Ed25519\",\"kid")));
        for bad in [
            json!({"keys": []}),
            json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}], "extra": 1}),
            json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}]}),
            json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "use": null}]}),
            json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "use": "enc"}]}),
            json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "ES256"}]}),
            json!({"keys": [{"kty": "RSA", "n": "AQ=", "e": "AQAB"}]}),
            json!({"keys": [{"kty": "RSA", "n": "AB", "e": "AQAB"}]}),
            json!({"keys": [{"kty": "oct", "k": "AQAB"}]}),
            json!({"keys": [{"kty": "EC", "crv": "P-521", "x": "AAAA", "y": "AAAA"}]}),
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519"}]}),
            json!([]),
        ] {
            assert!(check_jwks(&bad).is_err(), "{bad}");
        }
    }
}
