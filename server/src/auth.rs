//! Tokens on Gatehouse's own REST API (SPEC §4, RFC 6750, RFC 9449): valid token, a granted
//! scope whose REST regex matches the path, and the token's user behind it; a DPoP-bound token
//! only with the DPoP scheme and a proof by its key.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use domain::bearer::BearerError;
use domain::oauth::dpop::{BindingError, Presented, ProofError, ALGORITHMS_LIST};
use domain::Principal;

use crate::api::error::ApiError;
use crate::AppState;

/// A 401 with the challenge of the scheme the client used (RFC 6750 §3, RFC 9449 §7.1).
fn refused(dpop: bool, error: &str, message: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", message);
    if error == "invalid_dpop_proof" {
        e.code = "invalid_dpop_proof";
    }
    e.challenge = Some(challenge(dpop, error, message));
    e
}

/// `WWW-Authenticate` for a refused token: `Bearer …`, or `DPoP …` with the algorithms.
pub fn challenge(dpop: bool, error: &str, description: &str) -> String {
    let description = description.replace(['"', '\\'], "'");
    if dpop {
        format!("DPoP algs=\"{ALGORITHMS_LIST}\", error=\"{error}\", error_description=\"{description}\"")
    } else {
        format!(
            "Bearer realm=\"gatehouse\", error=\"{error}\", error_description=\"{description}\""
        )
    }
}

/// The token of an `Authorization: Bearer …` or `Authorization: DPoP …` header, and whether the
/// scheme was DPoP. `None` when the header is absent or of another scheme.
pub fn token_of(headers: &HeaderMap) -> Option<(&str, bool)> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        Some((token, false))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Some((token, true))
    } else {
        None
    }
}

/// What a request presents to a protected resource at `path`: its token, scheme and proof.
/// `Err` for more than one DPoP header.
pub fn presented<'a>(
    state_public_url: &str,
    headers: &'a HeaderMap,
    method: &'a Method,
    path: &str,
) -> Option<Result<Presented<'a>, &'static str>> {
    let (token, dpop_scheme) = token_of(headers)?;
    let mut proofs = headers.get_all("dpop").iter();
    let proof = match (proofs.next(), proofs.next()) {
        (_, Some(_)) => return Some(Err("more than one DPoP header")),
        (None, None) => None,
        (Some(v), None) => match v.to_str() {
            Ok(p) => Some(p.trim()),
            Err(_) => return Some(Err("the DPoP header is not a JWT")),
        },
    };
    Some(Ok(Presented {
        token,
        dpop_scheme,
        proof,
        htm: method.as_str(),
        htu: format!("{}{path}", state_public_url.trim_end_matches('/')),
    }))
}

/// The refusal of a valid token that did not come the way its binding asks, as a status, an
/// error code, a description, and whether the challenge is DPoP's.
pub fn binding_refusal(e: &BindingError) -> (&'static str, &'static str) {
    match e {
        BindingError::ProofNeeded => (
            "invalid_token",
            "the token is DPoP-bound: send it with the DPoP scheme and a proof signed by its key",
        ),
        BindingError::NotBound => (
            "invalid_token",
            "the token is not DPoP-bound: send it as a Bearer token",
        ),
        BindingError::Proof(ProofError::Invalid(why)) => ("invalid_dpop_proof", why),
        BindingError::Proof(ProofError::UseNonce) => (
            "use_dpop_nonce",
            "the DPoP proof must carry the server's nonce",
        ),
        BindingError::Proof(ProofError::Internal(_)) => ("server_error", "internal error"),
    }
}

/// The principal of a token (the decision is the domain's `bearer_principal`); this door only
/// reads the headers and renders the RFC 6750 / RFC 9449 answer.
pub async fn bearer_principal(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<Principal>, ApiError> {
    let path = parts.uri.path();
    let Some(presented) = presented(
        &state.services.public_url,
        &parts.headers,
        &parts.method,
        path,
    ) else {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
            && parts.extensions.get::<tower_sessions::Session>().is_none()
        {
            return Err(refused(
                false,
                "invalid_token",
                "unsupported Authorization scheme",
            ));
        }
        return Ok(None);
    };
    let presented = presented.map_err(|why| refused(true, "invalid_dpop_proof", why))?;
    let dpop = presented.dpop_scheme;
    match state.services.bearer_principal(&presented, path).await {
        Ok(mut p) => {
            p.origin.address = Some(crate::client_addr::ClientAddr::of(parts).0.to_string());
            Ok(Some(p))
        }
        Err(BearerError::InvalidToken(why)) => Err(refused(dpop, "invalid_token", why)),
        Err(BearerError::Binding(BindingError::Proof(ProofError::Internal(cause)))) => {
            Err(ApiError::internal(cause))
        }
        Err(BearerError::Binding(e)) => {
            let (error, why) = binding_refusal(&e);
            // A bound token sent as Bearer is answered with DPoP's challenge: that is the way in.
            Err(refused(!matches!(e, BindingError::NotBound), error, why))
        }
        Err(BearerError::InsufficientScope) => {
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "no granted scope allows this path",
            );
            e.challenge = Some(if dpop {
                format!("DPoP algs=\"{ALGORITHMS_LIST}\", error=\"insufficient_scope\"")
            } else {
                "Bearer realm=\"gatehouse\", error=\"insufficient_scope\"".into()
            });
            Err(e)
        }
        Err(BearerError::Internal(e)) => Err(ApiError::internal(e.cause.unwrap_or(e.description))),
    }
}
