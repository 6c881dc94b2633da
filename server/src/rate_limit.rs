//! A plain request-rate limit per client address on the token, introspection and revocation
//! endpoints (off by default): a generic cell rate limit from the `governor` crate, in memory
//! per instance, answered `429` with `Retry-After`. It complements the failure throttle (which
//! counts wrong secrets in the database): this one caps any client's request rate.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::client_addr::ClientAddr;

#[derive(Clone)]
pub struct RateLimit(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl RateLimit {
    /// `per_second` requests per second per client address, with bursts of as many; None when 0.
    pub fn new(per_second: u32) -> Option<RateLimit> {
        let n = NonZeroU32::new(per_second)?;
        let limiter = Arc::new(RateLimiter::keyed(Quota::per_second(n)));
        // Forget idle addresses now and then, so the map does not grow for ever.
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let Some(l) = weak.upgrade() else { break };
                l.retain_recent();
                l.shrink_to_fit();
            }
        });
        Some(RateLimit(limiter))
    }
}

fn limited(path: &str) -> bool {
    path.starts_with("/oauth2/token/")
        || path.starts_with("/oauth2/introspect/")
        || path.starts_with("/oauth2/revoke/")
}

pub async fn layer(State(limit): State<RateLimit>, req: Request, next: Next) -> Response {
    if !limited(req.uri().path()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let ClientAddr(ip) = ClientAddr::of(&parts);
    if let Err(not_until) = limit.0.check_key(&ip) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut res = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({
                "error": "slow_down",
                "error_description": "too many requests from this address",
            })),
        )
            .into_response();
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return res;
    }
    next.run(Request::from_parts(parts, body)).await
}
