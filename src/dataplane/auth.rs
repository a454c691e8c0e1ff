//! Credentials and the shared OAuth2 token cache.
//!
//! Redpanda Cloud issues tokens against a small per-organisation DAILY quota, so the operator
//! holds exactly one token per credential set, shared by every reconcile; it refreshes shortly
//! before expiry and once after a 401, never per request. A 429 from the token endpoint (or its
//! `Auth0-Organization-Quota-Limit` header saying the quota is spent) blocks further requests until
//! the reset, and rejected credentials are not retried for a while either: both protect the quota.
//!
//! The request is a plain form POST written here rather than with the `oauth2` crate: the
//! operator needs the response headers (quota, `Retry-After`) and the Auth0 `audience` parameter,
//! which that crate's client-credentials flow hides or does not model.

use crate::metrics::Metrics;
use crate::probe::{Failure, FailureKind};
use secrecy::{ExposeSecret, SecretString};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Default OAuth2 token endpoint of Redpanda Cloud.
pub const DEFAULT_TOKEN_URL: &str = "https://auth.prd.cloud.redpanda.com/oauth/token";
/// Default audience of Redpanda Cloud tokens.
pub const DEFAULT_AUDIENCE: &str = "cloudv2-production.redpanda.cloud";

/// How long rejected client credentials are not retried (protects the daily token quota).
const REJECTED_BACKOFF: Duration = Duration::from_secs(300);
/// How long to wait after the token endpoint failed in a passing way.
const UNAVAILABLE_BACKOFF: Duration = Duration::from_secs(10);
/// Fallback wait after a 429 that says nothing about when to return.
const QUOTA_BACKOFF: Duration = Duration::from_secs(60);
/// Cap on the size of a token response.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// Operator-wide defaults for keys a credentials Secret may leave out.
#[derive(Debug, Clone)]
pub struct AuthDefaults {
    /// Token endpoint.
    pub token_url: Url,
    /// Token audience.
    pub audience: String,
}

impl Default for AuthDefaults {
    fn default() -> Self {
        AuthDefaults {
            token_url: Url::parse(DEFAULT_TOKEN_URL).expect("default token URL is valid"),
            audience: DEFAULT_AUDIENCE.to_string(),
        }
    }
}

/// What a credentials Secret holds.
#[derive(Clone)]
pub enum Credentials {
    /// OAuth2 client credentials.
    ClientCredentials {
        /// Client id (not secret, may be logged).
        client_id: String,
        /// Client secret.
        client_secret: SecretString,
        /// Token endpoint.
        token_url: Url,
        /// Token audience.
        audience: String,
    },
    /// A bearer token used as is.
    StaticToken(SecretString),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ClientCredentials {
                client_id,
                token_url,
                audience,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("token_url", &token_url.as_str())
                .field("audience", audience)
                .finish_non_exhaustive(),
            Credentials::StaticToken(_) => f.write_str("StaticToken(..)"),
        }
    }
}

impl Credentials {
    /// Reads credentials from a Secret's data. The message of an error names the keys, never
    /// their values.
    pub fn from_secret_data(
        data: &BTreeMap<String, Vec<u8>>,
        defaults: &AuthDefaults,
    ) -> Result<Self, Failure> {
        let get = |key: &str| -> Result<Option<String>, Failure> {
            match data.get(key) {
                None => Ok(None),
                Some(v) => {
                    let s = String::from_utf8(v.clone()).map_err(|_| {
                        Failure::new(
                            FailureKind::CredentialsInvalid,
                            format!("key {key} of the credentials Secret is not UTF-8 text"),
                        )
                    })?;
                    let s = s.trim().to_string();
                    Ok((!s.is_empty()).then_some(s))
                }
            }
        };
        let invalid = |msg: String| Failure::new(FailureKind::CredentialsInvalid, msg);
        let token = get("token")?;
        let client_id = get("client_id")?;
        let client_secret = get("client_secret")?;
        match (token, client_id, client_secret) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(invalid(
                "the credentials Secret holds both token and client_id/client_secret: keep one kind".into(),
            )),
            (Some(token), None, None) => Ok(Credentials::StaticToken(token.into())),
            (None, Some(client_id), Some(client_secret)) => {
                let token_url = match get("token_url")? {
                    None => defaults.token_url.clone(),
                    Some(u) => Url::parse(&u)
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"))
                        .ok_or_else(|| {
                            invalid("key token_url of the credentials Secret is not an http(s) URL".into())
                        })?,
                };
                Ok(Credentials::ClientCredentials {
                    client_id,
                    client_secret: client_secret.into(),
                    token_url,
                    audience: get("audience")?.unwrap_or_else(|| defaults.audience.clone()),
                })
            }
            (None, Some(_), None) => Err(invalid(
                "the credentials Secret has client_id but no client_secret".into(),
            )),
            (None, None, Some(_)) => Err(invalid(
                "the credentials Secret has client_secret but no client_id".into(),
            )),
            (None, None, None) => Err(invalid(
                "the credentials Secret holds neither client_id and client_secret nor token".into(),
            )),
        }
    }

    /// Identity of the credential set, for sharing one token between every resource that uses it.
    /// The secret is mixed in through a process-local keyed hash, so changing it in the Secret
    /// yields a new token instead of reusing a token of the old one.
    fn key(&self, hasher: &RandomState) -> CredentialKey {
        let mut h = hasher.build_hasher();
        match self {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                token_url,
                audience,
            } => {
                0u8.hash(&mut h);
                client_id.hash(&mut h);
                client_secret.expose_secret().hash(&mut h);
                token_url.as_str().hash(&mut h);
                audience.hash(&mut h);
            }
            Credentials::StaticToken(t) => {
                1u8.hash(&mut h);
                t.expose_secret().hash(&mut h);
            }
        }
        CredentialKey(h.finish())
    }
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

#[derive(Default)]
struct Slot {
    token: Option<(BearerToken, Instant)>,
    blocked: Option<(Instant, Failure)>,
}

/// One token per credential set, shared by all reconciles.
pub struct TokenCache {
    http: reqwest::Client,
    hasher: RandomState,
    slots: Mutex<HashMap<CredentialKey, Arc<tokio::sync::Mutex<Slot>>>>,
    metrics: Metrics,
}

impl TokenCache {
    /// A cache that fetches tokens with `http`.
    pub fn new(http: reqwest::Client, metrics: Metrics) -> Self {
        TokenCache {
            http,
            hasher: RandomState::new(),
            slots: Mutex::default(),
            metrics,
        }
    }

    fn slot(&self, key: CredentialKey) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
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
        let slot = self.slot(creds.key(&self.hasher));
        let mut slot = slot.lock().await;
        let now = Instant::now();
        if let Some((token, refresh_at)) = &slot.token
            && now < *refresh_at
        {
            return Ok(token.clone());
        }
        if let Some((until, failure)) = &slot.blocked
            && now < *until
        {
            let mut failure = failure.clone();
            failure.retry_after = Some(*until - now);
            return Err(failure);
        }
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
    /// fetches a new one. A token that was already replaced is left alone, so many reconciles
    /// hitting the same 401 cause one refresh, not many.
    pub async fn invalidate(&self, creds: &Credentials, rejected: &BearerToken) {
        if let Credentials::StaticToken(_) = creds {
            return;
        }
        let slot = self.slot(creds.key(&self.hasher));
        let mut slot = slot.lock().await;
        if slot
            .token
            .as_ref()
            .is_some_and(|(t, _)| t.same_as(rejected))
        {
            slot.token = None;
        }
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
        let response = match self.http.post(token_url.clone()).form(&form).send().await {
            Ok(r) => r,
            Err(e) => {
                self.metrics.token_request("error");
                return Err(unavailable(format!(
                    "token endpoint {} unreachable: {}",
                    origin(token_url),
                    crate::http::describe_error(&e)
                )));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = crate::http::read_capped(response, MAX_TOKEN_RESPONSE)
            .await
            .unwrap_or_default();
        let body_json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let oauth_error = || {
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
            let token = body_json["access_token"].as_str().unwrap_or("");
            if token.is_empty() {
                self.metrics.token_request("invalid_response");
                return Err(unavailable(format!(
                    "token endpoint {} answered without an access_token",
                    origin(token_url)
                )));
            }
            let lifetime = body_json["expires_in"]
                .as_u64()
                .or_else(|| {
                    body_json["expires_in"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                })
                .unwrap_or(3600);
            self.metrics.token_request("ok");
            tracing::info!(client_id, token_url = %origin(token_url), expires_in = lifetime, "obtained a Data Plane API token");
            return Ok((
                BearerToken(token.to_string().into()),
                Duration::from_secs(lifetime),
            ));
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
            origin(token_url),
            status.as_u16(),
            oauth_error()
        )))
    }
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
                Some(0) => field("t").map(Duration::from_secs),
                _ => None,
            }
        });
    match (retry_after, quota_reset) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn secret_shapes() {
        let d = AuthDefaults::default();
        let cc = Credentials::from_secret_data(
            &data(&[("client_id", "id\n"), ("client_secret", " s3cret ")]),
            &d,
        )
        .expect("client credentials");
        match &cc {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                token_url,
                audience,
            } => {
                assert_eq!(client_id, "id");
                assert_eq!(client_secret.expose_secret(), "s3cret");
                assert_eq!(token_url.as_str(), DEFAULT_TOKEN_URL);
                assert_eq!(audience, DEFAULT_AUDIENCE);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            !format!("{cc:?}").contains("s3cret"),
            "Debug hides the secret"
        );

        let custom = Credentials::from_secret_data(
            &data(&[
                ("client_id", "id"),
                ("client_secret", "s"),
                ("token_url", "http://127.0.0.1:9/token"),
                ("audience", "aud"),
            ]),
            &d,
        )
        .expect("custom endpoint");
        assert!(format!("{custom:?}").contains("127.0.0.1:9"));

        assert!(matches!(
            Credentials::from_secret_data(&data(&[("token", "t")]), &d),
            Ok(Credentials::StaticToken(_))
        ));

        for (bad, words) in [
            (data(&[]), "neither"),
            (data(&[("client_id", "id")]), "no client_secret"),
            (data(&[("client_secret", "s")]), "no client_id"),
            (data(&[("token", "t"), ("client_id", "x")]), "both"),
            (
                data(&[
                    ("client_id", "id"),
                    ("client_secret", "s"),
                    ("token_url", "ftp://x"),
                ]),
                "token_url",
            ),
            (data(&[("token", "   ")]), "neither"),
        ] {
            let err = Credentials::from_secret_data(&bad, &d).expect_err("invalid");
            assert_eq!(err.kind, FailureKind::CredentialsInvalid);
            assert!(
                err.message.contains(words),
                "{} should say {words}",
                err.message
            );
        }
    }

    #[test]
    fn quota_and_retry_after_headers() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "auth0-organization-quota-limit",
            "b=per_day;q=100;r=0;t=43200".parse().unwrap(),
        );
        assert_eq!(quota_wait(&h), Some(Duration::from_secs(43200)));
        h.insert(
            "auth0-organization-quota-limit",
            "b=per_day;q=100;r=83;t=43200".parse().unwrap(),
        );
        assert_eq!(
            quota_wait(&h),
            None,
            "quota left: no wait from the quota header"
        );
        h.insert("retry-after", "30".parse().unwrap());
        assert_eq!(quota_wait(&h), Some(Duration::from_secs(30)));
    }

    #[test]
    fn refresh_margin() {
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(3300)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(10)),
            Duration::from_secs(8)
        );
    }

    #[test]
    fn same_credentials_share_a_key_and_a_changed_secret_does_not() {
        let d = AuthDefaults::default();
        let h = RandomState::new();
        let a = Credentials::from_secret_data(
            &data(&[("client_id", "id"), ("client_secret", "s1")]),
            &d,
        )
        .unwrap();
        let b = Credentials::from_secret_data(
            &data(&[("client_id", "id"), ("client_secret", "s1")]),
            &d,
        )
        .unwrap();
        let c = Credentials::from_secret_data(
            &data(&[("client_id", "id"), ("client_secret", "s2")]),
            &d,
        )
        .unwrap();
        assert_eq!(a.key(&h), b.key(&h));
        assert_ne!(a.key(&h), c.key(&h));
    }
}
