//! The approvals API: `GET /v1/approvals` lists the calls waiting for the person asking, and
//! `POST /v1/approvals/{id}` with `{"approve": true|false}` is that person's answer. The
//! person is verified by bearer token (a human of the plan), and only the human an escalation
//! named may answer it: anyone else gets 403.

use super::approvals::Refused;
use super::Shared;
use crate::engine::now_ms;
use crate::server::{error, person, App};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::sync::Arc;

/// `GET /v1/approvals`: the calls waiting for the person asking.
pub(super) async fn list(
    State(app): State<Arc<App>>,
    Extension(shared): Extension<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    let engine = app.engine_full();
    let who = match person(&app, &headers, &engine).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let pending = shared.approvals.pending(Some(&who), now_ms());
    Json(serde_json::json!({ "human": who, "pending": pending })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    approve: bool,
}

/// `POST /v1/approvals/{id}`: the named person approves or rejects a held call.
pub(super) async fn answer(
    State(app): State<Arc<App>>,
    Extension(shared): Extension<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let engine = app.engine_full();
    let who = match person(&app, &headers, &engine).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let a: Answer = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not an answer: {e}"),
                r#"send {"approve": true} or {"approve": false}"#,
            )
        }
    };
    match shared.approvals.answer(&id, &who, a.approve, now_ms()) {
        Ok(h) => Json(h).into_response(),
        Err(Refused::NotFound) => error(
            StatusCode::NOT_FOUND,
            format!("no call is held as `{}`", crate::limits::echo(&id)),
            "list the held calls with GET /v1/approvals",
        ),
        Err(Refused::NotYours { human }) => error(
            StatusCode::FORBIDDEN,
            format!("this call waits for `{human}`, not for `{who}`"),
            "only the person the escalation names may answer it",
        ),
        Err(Refused::Decided(state)) => error(
            StatusCode::CONFLICT,
            format!(
                "this call was {} already",
                serde_json::to_string(&state)
                    .unwrap_or_default()
                    .trim_matches('"')
            ),
            "a held call is answered once",
        ),
    }
}
