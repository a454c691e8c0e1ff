//! HTTP plumbing shared by every status source (Data Plane API, Kafka Connect REST): one gate that
//! every request passes — a global rate limiter (`governor`), a bound on requests in flight, and
//! per-origin pauses when a server asks for one — plus capped body reading and header parsing.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

/// The longest wait a server's `Retry-After` or `ratelimit` reset is taken at its word: a server
/// may be hostile (a tenant's URL) or wrong, and a wait of years would overflow the clock; beyond
/// this, the resource's own backoff decides.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(600);

/// User-Agent sent with every request, so the servers' operators can tell who calls.
pub const USER_AGENT: &str = concat!(
    "managed-connector-operator/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/managed-connector-operator)"
);

/// Selects rustls' ring backend (the one kube uses) as the process default, once.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only if another default was installed first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A reqwest client with the operator's defaults: timeout, User-Agent, no redirects (an API that
/// redirects is misconfigured, and credentials must not follow a redirect), names resolved by
/// [`GuardedResolver`], and optional extra trusted CA certificates.
pub fn client(
    timeout: Duration,
    extra_roots: &[reqwest::Certificate],
    allow_link_local: bool,
) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(90))
        .dns_resolver(std::sync::Arc::new(GuardedResolver { allow_link_local }));
    for cert in extra_roots {
        builder = builder.add_root_certificate(cert.clone());
    }
    builder.build()
}

/// The system resolver, minus link-local addresses (cloud metadata services): checked on the
/// addresses actually connected to, so a name that resolves, or is re-pointed, to
/// 169.254.169.254 cannot get around the policy that refuses the literal address.
struct GuardedResolver {
    allow_link_local: bool,
}

/// A destination refused by policy while connecting.
#[derive(Debug)]
pub struct DestinationRefused(pub String);

impl std::fmt::Display for DestinationRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DestinationRefused {}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let allow_link_local = self.allow_link_local;
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<_> = found
                .iter()
                .copied()
                .filter(|a| allow_link_local || !crate::policy::is_link_local(a.ip()))
                .collect();
            if usable.is_empty() && !found.is_empty() {
                let refused = crate::policy::link_local_refused(
                    &format!("the name {host}"),
                    &format!("{}", found[0].ip()),
                );
                return Err(Box::new(DestinationRefused(refused.message)) as _);
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Limits and timeouts of every source's client (one gate, one set of limits).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Timeout of one whole request, body included.
    pub request_timeout: Duration,
    /// Largest response body read; larger ones are an error.
    pub max_response_bytes: usize,
    /// Requests in flight at once, across all resources.
    pub max_concurrent_requests: usize,
    /// Requests per second, across all resources.
    pub max_requests_per_second: u32,
    /// Least time between two token requests of one credential set.
    pub min_token_interval: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            request_timeout: Duration::from_secs(10),
            max_response_bytes: 4 * 1024 * 1024,
            max_concurrent_requests: 8,
            max_requests_per_second: 8,
            min_token_interval: Duration::from_secs(60),
        }
    }
}

/// Why a request got no complete answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Not sent: the origin asked every client to pause, for this much longer.
    Paused(Duration),
    /// The policy refused the destination while connecting (a name resolving to a link-local
    /// address).
    Refused(String),
    /// No answer within the timeout.
    Timeout(Duration),
    /// Connection refused, DNS failure, TLS failure, reset...
    Transport(String),
    /// The body exceeded the cap.
    BodyTooLarge {
        /// The cap.
        limit: usize,
    },
    /// Not sent: no request slot came free within this long (every slot the request may use is
    /// held by slow origins, or by the resource's own namespace).
    Busy(Duration),
    /// Not sent: the command's sender may no longer send (a replica that lost the leadership
    /// while the request waited for its slots).
    Fenced,
}

/// A fetch error for people.
pub fn describe_fetch_error(e: &FetchError) -> String {
    match e {
        FetchError::Paused(left) => format!("asked for a pause of {}s more", left.as_secs()),
        FetchError::Refused(r) => r.clone(),
        FetchError::Timeout(d) => format!("no answer within {}s", d.as_secs()),
        FetchError::Transport(t) => t.clone(),
        FetchError::BodyTooLarge { limit } => format!("the answer exceeded {limit} bytes"),
        FetchError::Busy(d) => busy_message(*d),
        FetchError::Fenced => FENCED.to_string(),
    }
}

/// What a command not sent by a replica that lost the leadership says.
pub const FENCED: &str = "not sent: this replica is no longer the leader";

/// What a request that found no slot says.
pub fn busy_message(waited: Duration) -> String {
    format!(
        "not sent: no request slot came free within {}s (the operator's requests are taken by slow sources, or by this namespace's other resources); retried with backoff",
        waited.as_secs()
    )
}

/// Whether a request may still go out once it has its slots (see [`MAY_SEND`]).
pub type SendCheck = Arc<dyn Fn() -> bool + Send + Sync>;

tokio::task_local! {
    /// Set around a command: checked again once the request has waited for its slots, so a
    /// replica that lost the leadership while waiting sends nothing.
    pub static MAY_SEND: SendCheck;
}

tokio::task_local! {
    /// The namespace whose resource a request is made for, set around each reconcile: the gate
    /// gives one namespace at most a share of the request slots, across all the origins it
    /// names. Requests outside a reconcile (the batch pollers' listings, the ConnectCluster
    /// checks) serve several namespaces and count for none.
    pub static TENANT: String;
}

/// A complete answer.
#[derive(Debug)]
pub struct Fetched {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body (at most the cap).
    pub body: Vec<u8>,
}

/// Limits every source's requests together, and keeps one origin from holding them all.
pub struct Gate {
    limiter: DefaultDirectRateLimiter,
    in_flight: Semaphore,
    max_requests_per_second: u32,
    /// Requests one origin may have in flight: all but a quarter of the total (at least one), so
    /// a slow or hanging origin (a tarpit a tenant points at) leaves slots to every other.
    origin_share: usize,
    origins: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Per namespace (see [`TENANT`]), the same share: one tenant spreading its resources over
    /// many origins still leaves slots to every other tenant.
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// How long a request waits for its slots before it is given up ([`FetchError::Busy`]).
    slot_wait: Duration,
    /// Per origin: no request before this instant (a 429's `Retry-After`, a spent `ratelimit`).
    paused_until: Mutex<HashMap<String, Instant>>,
}

/// How long a request waits for its slots by default.
pub const SLOT_WAIT: Duration = Duration::from_secs(30);

/// Origins remembered before idle ones are forgotten.
const MAX_TRACKED_ORIGINS: usize = 1024;

impl Gate {
    /// A gate for this many requests per second and in flight.
    pub fn new(max_requests_per_second: u32, max_concurrent_requests: usize) -> Self {
        let rps = NonZeroU32::new(max_requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let total = max_concurrent_requests.max(1);
        Gate {
            limiter: RateLimiter::direct(Quota::per_second(rps)),
            in_flight: Semaphore::new(total),
            max_requests_per_second: rps.get(),
            origin_share: total.saturating_sub((total / 4).max(1)).max(1),
            origins: Mutex::default(),
            tenants: Mutex::default(),
            slot_wait: SLOT_WAIT,
            paused_until: Mutex::default(),
        }
    }

    /// The same gate, giving up a request after `wait` without a slot.
    pub fn with_slot_wait(mut self, wait: Duration) -> Self {
        self.slot_wait = wait;
        self
    }

    fn share_of(
        &self,
        shares: &Mutex<HashMap<String, Arc<Semaphore>>>,
        key: &str,
    ) -> Arc<Semaphore> {
        let mut shares = shares.lock().unwrap_or_else(|e| e.into_inner());
        if shares.len() >= MAX_TRACKED_ORIGINS && !shares.contains_key(key) {
            let share = self.origin_share;
            shares.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < share);
        }
        shares
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.origin_share)))
            .clone()
    }

    /// How much longer `origin` is paused, if it is.
    pub fn paused_for(&self, url: &Url) -> Option<Duration> {
        let origin = url.origin().ascii_serialization();
        let paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        let until = *paused.get(&origin)?;
        until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// The rate limit.
    pub fn max_requests_per_second(&self) -> u32 {
        self.max_requests_per_second
    }

    /// Sends `request` (for `url`) once the origin's share, the rate and a slot allow; reads at
    /// most `max_body` bytes. A paused origin is not waited for: the answer is
    /// [`FetchError::Paused`] at once, so the caller can come back later instead of holding a
    /// slot. A `Retry-After` on 409/429/5xx, or a spent `ratelimit` header on any answer, pauses
    /// the origin for every caller.
    pub async fn fetch(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
        max_body: usize,
        timeout: Duration,
    ) -> Result<Fetched, FetchError> {
        if let Some(left) = self.paused_for(url) {
            return Err(FetchError::Paused(left));
        }
        let origin = url.origin().ascii_serialization();
        let tenant = TENANT.try_with(|t| self.share_of(&self.tenants, t)).ok();
        // The origin's and the namespace's shares first: requests to a hanging origin, or of a
        // namespace that holds its share, queue here, holding nothing others need. The whole
        // wait has a deadline, so a reconcile never waits for slots forever.
        let slots = async {
            let origin = self.share_of(&self.origins, &origin).acquire_owned().await;
            let tenant = match tenant {
                Some(t) => Some(t.acquire_owned().await),
                None => None,
            };
            self.limiter.until_ready().await;
            let slot = self.in_flight.acquire().await;
            (origin, tenant, slot)
        };
        let _permits = tokio::time::timeout(self.slot_wait, slots)
            .await
            .map_err(|_| FetchError::Busy(self.slot_wait))?;
        if MAY_SEND.try_with(|may| !may()).unwrap_or(false) {
            return Err(FetchError::Fenced);
        }
        let response = request.send().await.map_err(|e| fetch_error(e, timeout))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_capped(response, max_body).await.map_err(|e| match e {
            FetchError::Timeout(_) => FetchError::Timeout(timeout),
            other => other,
        })?;
        let pause = if matches!(status.as_u16(), 409 | 429 | 500..=599) {
            retry_after(&headers)
        } else {
            ratelimit_reset(&headers)
        };
        if let Some(wait) = pause {
            self.pause_origin(origin, wait);
        }
        Ok(Fetched {
            status,
            headers,
            body,
        })
    }

    fn pause_origin(&self, origin: String, wait: Duration) {
        // A server asking for more than a minute is better served by the per-resource requeue
        // than by holding every request to that origin.
        let wait = wait.min(Duration::from_secs(60));
        let now = Instant::now();
        let until = now + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        paused.retain(|_, until| *until > now);
        let entry = paused.entry(origin).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }
}

fn fetch_error(e: reqwest::Error, timeout: Duration) -> FetchError {
    if let Some(refused) = refusal(&e) {
        return FetchError::Refused(refused);
    }
    if e.is_timeout() {
        FetchError::Timeout(timeout)
    } else {
        FetchError::Transport(describe_request_error(e))
    }
}

/// The policy's refusal inside a request error, if that is what it is.
pub fn refusal(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<DestinationRefused>() {
            return Some(refused.0.clone());
        }
        source = s.source();
    }
    None
}

/// `base` (which may carry a path prefix; its query and fragment dropped) plus `segments`, each
/// percent-encoded, plus `query` pairs: the URL of every endpoint of every source.
pub fn endpoint_url(base: &Url, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, String> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| format!("{base} cannot be a base URL"))?
        .pop_if_empty()
        .extend(segments);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// Reads a body, giving up once it exceeds `limit` bytes.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(FetchError::BodyTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| fetch_error(e, Duration::ZERO))?
    {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::BodyTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed request, described without its URL: the URL can carry what a tenant put in its query,
/// and messages reach status, Events and logs; callers name the origin themselves.
pub fn describe_request_error(e: reqwest::Error) -> String {
    describe_error(&e.without_url())
}

/// An error with its causes, the way people debug them ("connection refused").
pub fn describe_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// `Retry-After` in seconds (HTTP dates are rare for APIs and treated as absent), else the reset
/// time of a spent `ratelimit` header; at most [`MAX_SERVER_WAIT`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(server_wait)
        .or_else(|| ratelimit_reset(headers))
}

/// Seconds a server asked for, capped at [`MAX_SERVER_WAIT`].
fn server_wait(seconds: u64) -> Duration {
    Duration::from_secs(seconds).min(MAX_SERVER_WAIT)
}

/// The reset time of `ratelimit: limit=N,remaining=0,reset=S` (the header Redpanda's own clients
/// honour), at most [`MAX_SERVER_WAIT`]; `None` while requests remain.
pub fn ratelimit_reset(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("ratelimit")?.to_str().ok()?;
    let field = |name: &str| {
        v.split([',', ';'])
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| k.trim() == name)
            .and_then(|(_, val)| val.trim().parse::<u64>().ok())
    };
    match field("remaining") {
        Some(0) => field("reset").map(server_wait),
        _ => None,
    }
}

/// Metric label for an error answer's HTTP status.
pub fn status_outcome(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        429 => "rate_limited",
        500..=599 => "server_error",
        _ => "unexpected_status",
    }
}

/// An answer that is not in the API's own error shape, described rather than quoted: quoting it
/// would let a tenant read, through its resource's status, whatever a URL of its choosing serves
/// inside the cluster (server-side request forgery).
pub fn unquoted(body: &[u8]) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(
            "an answer not in the API's error format ({} bytes, not quoted)",
            body.len()
        )
    }
}

#[cfg(test)]
mod tests;
