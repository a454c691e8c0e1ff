//! Credentials and the shared OAuth2 token cache.
//!
//! Redpanda Cloud issues tokens against a small per-organisation DAILY quota, so the operator
//! holds exactly one token per credential set, shared by every reconcile; it refreshes shortly
//! before expiry and after a 401, never per request, and never asks for a token of one credential
//! set more than once per `min_interval` (a minute by default), backing off further while the
//! Data Plane keeps refusing fresh tokens: a URL that answers 401 to everything cannot drain the
//! quota. A 429 from the token endpoint (or its `Auth0-Organization-Quota-Limit` header saying the
//! quota is spent) blocks further requests until the reset, and rejected credentials are not
//! retried for a while either.
//!
//! The request is a plain form POST written here rather than with the `oauth2` crate: the
//! operator needs the response headers (quota, `Retry-After`) and the Auth0 `audience` parameter,
//! which that crate's client-credentials flow hides or does not model.

use crate::metrics::Metrics;
use crate::policy::display_origin;
use crate::probe::{Failure, FailureKind};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long rejected client credentials are not retried (protects the daily token quota).
const REJECTED_BACKOFF: Duration = Duration::from_secs(300);
/// How long to wait after the token endpoint failed in a passing way.
const UNAVAILABLE_BACKOFF: Duration = Duration::from_secs(10);
/// Fallback wait after a 429 that says nothing about when to return.
const QUOTA_BACKOFF: Duration = Duration::from_secs(60);
/// Cap on the size of a token response.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;
/// Token lifetimes are taken within these bounds: a token endpoint (a tenant may name its own)
/// that says `expires_in: 0` must not make every probe fetch a token, nor one that says `2^64-1`
/// overflow the clock.
const TOKEN_LIFETIME: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(86_400));
/// Longest wait for the organisation's daily token quota to come back.
const MAX_QUOTA_WAIT: Duration = Duration::from_secs(86_400);

pub use crate::credentials::{AuthDefaults, Credentials, DEFAULT_AUDIENCE, DEFAULT_TOKEN_URL};

/// Identity of the credential set, for sharing one token between every resource that uses it.
/// The secret is mixed in through a process-local keyed hash, so changing it in the Secret
/// yields a new token instead of reusing a token of the old one.
fn credential_key(creds: &Credentials, hasher: &RandomState) -> CredentialKey {
    let mut h = hasher.build_hasher();
    creds.hash_secrets(&mut h);
    CredentialKey(h.finish())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CredentialKey(u64);

/// A bearer token. Its `Debug` hides the value.
#[derive(Clone)]
pub struct BearerToken(SecretString);

impl BearerToken {
    /// The value, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    fn same_as(&self, other: &BearerToken) -> bool {
        self.expose() == other.expose()
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(..)")
    }
}

/// Credential sets remembered before idle ones are forgotten.
const MAX_SLOTS: usize = 1024;

/// Longest wait between token requests while the Data Plane keeps refusing fresh tokens.
const MAX_REJECTED_TOKEN_BACKOFF: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Slot {
    /// The token, and when to refresh it.
    token: Option<(BearerToken, Instant)>,
    /// No token request before this instant, and what to say meanwhile.
    blocked: Option<(Instant, Failure)>,
    /// When a token was last requested for this credential set.
    last_request: Option<Instant>,
    /// Tokens of this credential set the Data Plane refused in a row (401).
    refused_in_a_row: u32,
}

/// What to do when a token is wanted.
#[derive(Debug)]
enum Decision {
    /// Send this one.
    Use(BearerToken),
    /// Ask the token endpoint.
    Fetch,
    /// Neither: say why, and when to come back.
    Refuse(Failure),
}

impl Slot {
    /// The earliest next token request: `min_interval` after the last one, doubled for every
    /// refused token in a row beyond the first, up to an hour.
    fn next_request(&self, min_interval: Duration) -> Option<Instant> {
        let doublings = self.refused_in_a_row.saturating_sub(1).min(16);
        let wait = min_interval
            .saturating_mul(1 << doublings)
            .min(MAX_REJECTED_TOKEN_BACKOFF.max(min_interval));
        self.last_request.map(|at| at + wait)
    }

    fn decide(&self, now: Instant, min_interval: Duration) -> Decision {
        if let Some((token, refresh_at)) = &self.token
            && now < *refresh_at
        {
            return Decision::Use(token.clone());
        }
        if let Some((until, failure)) = &self.blocked
            && now < *until
        {
            let mut failure = failure.clone();
            failure.retry_after = Some(*until - now);
            return Decision::Refuse(failure);
        }
        let Some(next) = self.next_request(min_interval).filter(|next| now < *next) else {
            return Decision::Fetch;
        };
        // Too soon for another token: one due for refresh is still valid for a while (lifetimes
        // are at least a minute); a refused one leaves nothing to send.
        if let Some((token, _)) = &self.token {
            return Decision::Use(token.clone());
        }
        let mut failure = Failure::new(
            FailureKind::Unauthenticated,
            format!(
                "the Data Plane API refused the token of these credentials (401, {} in a row); a new token is requested in {}s: at most one per {}s per credential set, and less often while they are refused, to spare the organisation's daily token quota",
                self.refused_in_a_row,
                (next - now).as_secs().max(1),
                min_interval.as_secs()
            ),
        );
        failure.retry_after = Some(next - now);
        Decision::Refuse(failure)
    }
}

/// One token per credential set, shared by all reconciles.
pub struct TokenCache {
    http: reqwest::Client,
    /// Token requests pass the same gate as every other request: a token endpoint a tenant
    /// names (its Secret's `token_url`) cannot take slots, rate or time the gate does not give.
    gate: Arc<crate::http::Gate>,
    timeout: Duration,
    hasher: RandomState,
    slots: Mutex<HashMap<CredentialKey, Arc<tokio::sync::Mutex<Slot>>>>,
    metrics: Metrics,
    min_interval: Duration,
}

impl TokenCache {
    /// A cache that fetches tokens with `http`, at most one per credential set per
    /// `min_interval`.
    pub fn new(
        http: reqwest::Client,
        gate: Arc<crate::http::Gate>,
        timeout: Duration,
        metrics: Metrics,
        min_interval: Duration,
    ) -> Self {
        TokenCache {
            http,
            gate,
            timeout,
            hasher: RandomState::new(),
            slots: Mutex::default(),
            metrics,
            min_interval,
        }
    }

    fn slot(&self, key: CredentialKey) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= MAX_SLOTS && !slots.contains_key(&key) {
            // Credential sets come and go (a rotated Secret is a new one): forget those nobody
            // is using now and whose token has expired or was never fetched.
            let now = Instant::now();
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map_or(true, |s| {
                        s.token.as_ref().is_some_and(|(_, refresh)| *refresh > now)
                            || s.blocked.as_ref().is_some_and(|(until, _)| *until > now)
                    })
            });
        }
        slots.entry(key).or_default().clone()
    }

    /// A valid token for these credentials: the cached one, or a new one when it is near expiry.
    /// Concurrent callers with the same credentials wait for one request instead of each sending
    /// their own.
    pub async fn token(&self, creds: &Credentials) -> Result<BearerToken, Failure> {
        let Credentials::ClientCredentials { .. } = creds else {
            let Credentials::StaticToken(t) = creds else {
                unreachable!()
            };
            return Ok(BearerToken(t.clone()));
        };
        let slot = self.slot(credential_key(creds, &self.hasher));
        let mut slot = slot.lock().await;
        let now = Instant::now();
        match slot.decide(now, self.min_interval) {
            Decision::Use(token) => return Ok(token),
            Decision::Refuse(failure) => return Err(failure),
            Decision::Fetch => {}
        }
        slot.last_request = Some(now);
        match self.fetch(creds).await {
            Ok((token, lifetime)) => {
                slot.token = Some((token.clone(), now + refresh_after(lifetime)));
                slot.blocked = None;
                Ok(token)
            }
            Err((failure, block)) => {
                slot.token = None;
                slot.blocked = Some((now + block, failure.clone()));
                let mut failure = failure;
                failure.retry_after = Some(block);
                Err(failure)
            }
        }
    }

    /// Forgets `rejected` after the Data Plane API answered 401 to it, so the next [`Self::token`]
    /// fetches a new one, no sooner than the request interval allows. A token that was already
    /// replaced is left alone, so many reconciles hitting the same 401 cause one refresh.
    pub async fn invalidate(&self, creds: &Credentials, rejected: &BearerToken) {
        if let Credentials::StaticToken(_) = creds {
            return;
        }
        let slot = self.slot(credential_key(creds, &self.hasher));
        let mut slot = slot.lock().await;
        if slot
            .token
            .as_ref()
            .is_some_and(|(t, _)| t.same_as(rejected))
        {
            slot.token = None;
            slot.refused_in_a_row = slot.refused_in_a_row.saturating_add(1);
        }
    }

    /// The Data Plane API accepted a token of these credentials (any answer but 401): the backoff
    /// for refused tokens starts over.
    pub async fn accepted(&self, creds: &Credentials) {
        if let Credentials::StaticToken(_) = creds {
            return;
        }
        let slot = self.slot(credential_key(creds, &self.hasher));
        slot.lock().await.refused_in_a_row = 0;
    }

    async fn fetch(
        &self,
        creds: &Credentials,
    ) -> Result<(BearerToken, Duration), (Failure, Duration)> {
        let Credentials::ClientCredentials {
            client_id,
            client_secret,
            token_url,
            audience,
        } = creds
        else {
            unreachable!("static tokens are never fetched")
        };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.expose_secret()),
            ("audience", audience.as_str()),
        ];
        let unavailable = |msg: String| {
            (
                Failure::new(FailureKind::DataPlaneUnavailable, msg),
                UNAVAILABLE_BACKOFF,
            )
        };
        let request = self.http.post(token_url.clone()).form(&form);
        let fetched = match self
            .gate
            .fetch(request, token_url, MAX_TOKEN_RESPONSE, self.timeout)
            .await
        {
            Ok(f) => f,
            Err(crate::http::FetchError::Refused(refused)) => {
                self.metrics.token_request("error");
                return Err((
                    Failure::new(FailureKind::UrlNotAllowed, refused),
                    REJECTED_BACKOFF,
                ));
            }
            Err(crate::http::FetchError::BodyTooLarge { .. }) => crate::http::Fetched {
                status: reqwest::StatusCode::OK,
                headers: reqwest::header::HeaderMap::new(),
                body: Vec::new(),
            },
            Err(e) => {
                self.metrics.token_request("error");
                return Err(unavailable(format!(
                    "token endpoint {} unreachable: {}",
                    display_origin(token_url),
                    crate::http::describe_fetch_error(&e)
                )));
            }
        };
        let (status, headers, body) = (fetched.status, fetched.headers, fetched.body);
        let oauth_error = || {
            let body_json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let code = body_json["error"].as_str().unwrap_or("");
            let desc = body_json["error_description"].as_str().unwrap_or("");
            match (code.is_empty(), desc.is_empty()) {
                (true, true) => String::new(),
                (false, true) => format!(": {code}"),
                (true, false) => format!(": {desc}"),
                (false, false) => format!(": {code}: {desc}"),
            }
        };
        if status.is_success() {
            return match parse_token_answer(&body) {
                Some((token, lifetime)) => {
                    self.metrics.token_request("ok");
                    self.metrics.token_issued();
                    tracing::info!(client_id, token_url = %display_origin(token_url), expires_in = lifetime.as_secs(), "obtained a Data Plane API token");
                    Ok((token, lifetime))
                }
                None => {
                    self.metrics.token_request("invalid_response");
                    Err(unavailable(format!(
                        "token endpoint {} answered without an access_token",
                        display_origin(token_url)
                    )))
                }
            };
        }
        if status.as_u16() == 429 {
            self.metrics.token_request("rate_limited");
            let wait = quota_wait(&headers).unwrap_or(QUOTA_BACKOFF);
            return Err((
                Failure::new(
                    FailureKind::TokenQuotaExceeded,
                    format!(
                        "token endpoint refused a new token (429{}); next attempt in {}s",
                        oauth_error(),
                        wait.as_secs()
                    ),
                ),
                wait,
            ));
        }
        if matches!(status.as_u16(), 400 | 401 | 403) {
            self.metrics.token_request("rejected");
            return Err((
                Failure::new(
                    FailureKind::CredentialsRejected,
                    format!(
                        "token endpoint rejected client_id {client_id} (HTTP {}{}); check the credentials Secret",
                        status.as_u16(),
                        oauth_error()
                    ),
                ),
                REJECTED_BACKOFF,
            ));
        }
        self.metrics.token_request("error");
        Err(unavailable(format!(
            "token endpoint {} answered HTTP {}{}",
            display_origin(token_url),
            status.as_u16(),
            oauth_error()
        )))
    }
}

/// The token and its lifetime (`expires_in`, a number or a numeric string, 3600 when absent,
/// within [`TOKEN_LIFETIME`]) from a token endpoint's 200 answer; `None` without an access token.
pub fn parse_token_answer(body: &[u8]) -> Option<(BearerToken, Duration)> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = answer["access_token"].as_str().filter(|t| !t.is_empty())?;
    let seconds = answer["expires_in"]
        .as_u64()
        .or_else(|| {
            answer["expires_in"]
                .as_str()
                .and_then(|s| s.trim().parse().ok())
        })
        .unwrap_or(3600);
    let lifetime = Duration::from_secs(seconds).clamp(TOKEN_LIFETIME.0, TOKEN_LIFETIME.1);
    Some((BearerToken(token.to_string().into()), lifetime))
}

/// Refresh a token a little before it expires: a fifth of its life early, at most five minutes.
fn refresh_after(lifetime: Duration) -> Duration {
    let margin = (lifetime / 5).min(Duration::from_secs(300));
    lifetime - margin
}

/// How long the token endpoint asks us to stay away: `Retry-After` seconds, or the quota reset
/// time `t` of `Auth0-Organization-Quota-Limit: b=per_day;q=100;r=0;t=43200` when nothing remains.
pub fn quota_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let retry_after = crate::http::retry_after(headers);
    let quota_reset = headers
        .get("auth0-organization-quota-limit")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let field = |name: &str| {
                v.split(';')
                    .filter_map(|kv| kv.trim().split_once('='))
                    .find(|(k, _)| *k == name)
                    .and_then(|(_, val)| val.trim().parse::<u64>().ok())
            };
            match field("r") {
                Some(0) => field("t").map(|t| Duration::from_secs(t).min(MAX_QUOTA_WAIT)),
                _ => None,
            }
        });
    match (retry_after, quota_reset) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
