//! Kafka Connect's REST API, as the tests call it themselves (`hack/kafkaenv`'s worker): to
//! create, drive and read connectors beside the operator.

use std::time::{Duration, Instant};
pub fn connect_url() -> String {
    std::env::var("KAFKA_CONNECT_URL").expect("KAFKA_CONNECT_URL (hack/kafkaenv env)")
}

/// Kafka Connect's REST API.
pub struct Connect {
    url: String,
    http: reqwest::Client,
}

impl Connect {
    pub fn new() -> Self {
        managed_connector_operator::http::install_crypto_provider();
        Connect {
            url: connect_url(),
            http: reqwest::Client::new(),
        }
    }

    /// One request of the test's own to the worker. The worker is shared by tests that create and
    /// delete connectors at the same time: while it rebalances it answers 409, or 500 "a rebalance
    /// is expected"; such answers are retried for up to 30 s.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.url));
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = req
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            let rebalancing = status == 409 || (status == 500 && text.contains("rebalance"));
            if !rebalancing || Instant::now() > deadline {
                return (status, text);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn put_config(&self, name: &str, config: serde_json::Value) {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("/connectors/{name}/config"),
                Some(config),
            )
            .await;
        assert!(
            matches!(status, 200 | 201),
            "create {name}: {status} {body}"
        );
    }

    pub async fn put(&self, name: &str, action: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("/connectors/{name}/{action}"),
                None,
            )
            .await;
        assert!(
            matches!(status, 200 | 202 | 204),
            "{action} {name}: {status} {body}"
        );
    }

    pub async fn delete(&self, name: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::DELETE,
                &format!("/connectors/{name}"),
                None,
            )
            .await;
        assert!(
            matches!(status, 200 | 204),
            "delete {name}: {status} {body}"
        );
    }
}

pub fn unique(name: &str) -> String {
    format!("{name}-{}", rand::random::<u32>() % 100_000)
}

impl Connect {
    /// The connector's configuration, `None` when it does not exist.
    pub async fn config(&self, name: &str) -> Option<serde_json::Value> {
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                &format!("/connectors/{name}/config"),
                None,
            )
            .await;
        match status {
            200 => Some(serde_json::from_str(&body).unwrap()),
            404 => None,
            other => panic!("config of {name}: {other} {body}"),
        }
    }
}

pub async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    within: Duration,
    check: impl Fn() -> F,
) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not {what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
