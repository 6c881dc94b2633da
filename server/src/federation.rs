//! The doors of sign-in through an upstream OpenID provider (SPEC §6b):
//! `GET /login/federated/{id}` sends the browser to the provider, and
//! `GET /login/federated/{id}/callback` takes its answer. The flow's rules are the domain's
//! (`domain::signin::upstream`); the session is changed here: the state is kept in the browser's
//! session at the start and must come back to that same session (no one can sign a victim in as
//! themselves), and a person with a second factor here still gives it.

use app::api::ssr::{hold_for_second_step, start_session};
use app::pages::notice::Notice;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::factors::amr;
use domain::signin::upstream::FederationError;
use serde::Deserialize;
use tower_sessions::Session;

use crate::client_addr::ClientAddr;
use crate::AppState;

/// The session key of the started sign-in's state (its SHA-256).
const STATE: &str = "federation_state";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/federated/{id}", get(start))
        .route("/login/federated/{id}/callback", get(callback))
}

#[derive(Deserialize)]
struct StartQuery {
    return_to: Option<String>,
}

fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

/// What a failed federated sign-in shows: refused (400), the provider unreachable (502), no such
/// provider (404), or an unexpected failure (500, logged in full here).
async fn failed(state: &AppState, e: FederationError) -> Response {
    let l = crate::lang::current();
    let (status, message) = match e {
        FederationError::NotFound => (StatusCode::NOT_FOUND, l.t("federation-no-provider")),
        FederationError::Refused(why) => {
            tracing::info!(reason = %why, "a federated sign-in was refused");
            (
                StatusCode::BAD_REQUEST,
                model::tr!(l, "federation-refused", detail = why.to_string()),
            )
        }
        FederationError::Upstream(why) => {
            tracing::warn!(error = %why, "a sign-in provider could not be reached");
            (StatusCode::BAD_GATEWAY, l.t("federation-unreachable"))
        }
        FederationError::Domain(e) => {
            tracing::error!(error = %e, "internal error in a federated sign-in");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                l.t("federation-our-side"),
            )
        }
    };
    let failed = l.t("notice-sign-in-failed");
    let n = Notice::new(&failed, &failed, &message)
        .alert()
        .with_link("/login", &l.t("back-to-sign-in"));
    crate::portal::notice(state, status, n).await
}

async fn start(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    let target = app::api::safe_return_to(q.return_to.as_deref().unwrap_or(""));
    match state.services.federated_start(&id, &target).await {
        Ok((url, st)) => {
            let hash = domain::tokens::sha256_hex(&st);
            if let Err(e) = session.insert(STATE, hash).await {
                return failed(
                    &state,
                    FederationError::Domain(domain::DomainError::Internal(format!(
                        "session store: {e}"
                    ))),
                )
                .await;
            }
            see_other(&url)
        }
        Err(e) => failed(&state, e).await,
    }
}

#[derive(Deserialize)]
struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<String>,
    Query(a): Query<Answer>,
) -> Response {
    let addr = addr.to_string();
    let s = &state.services;
    // The state must be the one this browser's session started with.
    let started: Option<String> = session.remove(STATE).await.unwrap_or(None);
    let sent = a.state.as_deref().map(domain::tokens::sha256_hex);
    if started.is_none() || started != sent {
        return failed(
            &state,
            FederationError::Refused(
                "the answer is not for a sign-in this browser started (state)".into(),
            ),
        )
        .await;
    }
    let done = match s
        .federated_finish(
            &id,
            a.code.as_deref(),
            a.state.as_deref(),
            a.error.as_deref(),
            &addr,
        )
        .await
    {
        Ok(d) => d,
        Err(e) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "failed").increment(1);
            s.activity.sign_in("failed");
            return failed(&state, e).await;
        }
    };
    let user = &done.user;
    let outcome = async {
        s.audit_session(
            "session.federated_sign_in",
            &user.login_name,
            Some(&user.id),
            &addr,
        )
        .await?;
        if s.has_second_factor(&user.id)
            .await
            .map_err(|e| domain::DomainError::Internal(e.to_string()))?
        {
            hold_for_second_step(&session, &user.id, done.credential, amr::FEDERATED).await?;
            return Ok::<_, domain::DomainError>(format!(
                "/login/second?return_to={}",
                app::api::encode_query(&done.return_to)
            ));
        }
        start_session(
            &session,
            &state.services,
            &user.id,
            done.credential,
            &[amr::FEDERATED.to_string()],
            state.policy.absolute_secs,
        )
        .await?;
        Ok(done.return_to.clone())
    }
    .await;
    match outcome {
        Ok(to) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "succeeded").increment(1);
            s.activity.sign_in("succeeded");
            see_other(&to)
        }
        Err(e) => failed(&state, FederationError::Domain(e)).await,
    }
}
