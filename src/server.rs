//! The operator's HTTP endpoints: `/metrics`, `/healthz` (the process serves) and `/readyz` (the
//! watch cache is filled and reconciles run).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the endpoints read.
#[derive(Clone)]
pub struct ServerState {
    /// Metrics to render.
    pub registry: Arc<Registry>,
    /// Whether the operator is ready.
    pub ready: Arc<AtomicBool>,
}

/// The router.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

async fn metrics(State(state): State<ServerState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        with_heap_shares(crate::metrics::render(&state.registry)),
    )
}

/// In a bench build (`--features heap-shares`), the live heap by share after the registry's
/// series, before the closing `# EOF`.
fn with_heap_shares(mut text: String) -> String {
    use crate::heap::{COUNTING, SHARES, live};
    if !COUNTING {
        return text;
    }
    let eof = text.rfind("# EOF").unwrap_or(text.len());
    let mut lines = String::from(
        "# HELP managed_connector_heap_live_bytes Live heap bytes by share (bench build only).\n\
         # TYPE managed_connector_heap_live_bytes gauge\n",
    );
    for share in SHARES {
        lines.push_str(&format!(
            "managed_connector_heap_live_bytes{{share=\"{}\"}} {}\n",
            share.label(),
            live(share)
        ));
    }
    text.insert_str(eof, &lines);
    text
}

async fn readyz(State(state): State<ServerState>) -> impl IntoResponse {
    if state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "watch cache not filled yet",
        )
    }
}
