//! The OAuth2 token endpoint (client credentials), as Auth0 answers for Redpanda Cloud: the
//! audience check, the organisation's daily quota and its `Auth0-Organization-Quota-Limit`
//! header, tokens with a lifetime.

use crate::Sim;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

pub(crate) async fn token_handler(State(sim): State<Sim>, body: String) -> Response {
    let response = token_response(&sim, &body);
    sim.count("token", response.status());
    response
}

fn token_response(sim: &Sim, body: &str) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut s = sim.lock();
    let quota = s.scenario.auth.daily_quota;
    let quota_header = |remaining: u32| {
        HeaderValue::from_str(&format!("b=per_day;q={quota};r={remaining};t=43200"))
            .unwrap_or_else(|_| HeaderValue::from_static("b=per_day"))
    };
    let oauth_error = |status: StatusCode, error: &str, description: &str, remaining: u32| {
        let mut r = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"error": error, "error_description": description}).to_string(),
        )
            .into_response();
        r.headers_mut()
            .insert("auth0-organization-quota-limit", quota_header(remaining));
        r
    };
    let remaining = quota.saturating_sub(s.tokens_issued);
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
            remaining,
        );
    }
    let id = form.get("client_id").cloned().unwrap_or_default();
    let secret = form.get("client_secret").cloned().unwrap_or_default();
    if !s
        .scenario
        .auth
        .clients
        .iter()
        .any(|c| c.client_id == id && c.client_secret == secret)
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "access_denied",
            "Unauthorized",
            remaining,
        );
    }
    if form.get("audience") != Some(&s.scenario.auth.audience) {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "Service not enabled within domain",
            remaining,
        );
    }
    if remaining == 0 {
        let mut r = oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Organization quota exceeded",
            0,
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(43200u32));
        return r;
    }
    s.tokens_issued += 1;
    let n = s.next_token;
    s.next_token += 1;
    let token = format!("sim-token-{n}-{:x}", rand::random::<u64>());
    let expires_in = s.scenario.auth.expires_in_seconds;
    // A lifetime past the clock's range (a hostile endpoint's `expires_in`) never expires.
    let far_future = Instant::now() + Duration::from_secs(100 * 365 * 86_400);
    s.tokens.insert(
        token.clone(),
        Instant::now()
            .checked_add(Duration::from_secs(expires_in))
            .unwrap_or(far_future)
            .min(far_future),
    );
    let mut r = (
        [(header::CONTENT_TYPE, "application/json")],
        json!({"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": ""}).to_string(),
    )
        .into_response();
    r.headers_mut().insert(
        "auth0-organization-quota-limit",
        quota_header(quota - s.tokens_issued),
    );
    r
}
