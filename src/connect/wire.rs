//! Kafka Connect's wire shapes (pure parsing): its `{error_code, message}` error body and the
//! failure an error answer becomes, the `?expand=status` listing read as it streams in, and the
//! endpoint URLs.

use super::*;

/// Kafka Connect's error body.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct ConnectErrorBody {
    /// HTTP-like code.
    pub error_code: i64,
    /// Message.
    #[serde(default)]
    pub message: String,
}

/// Maps an error answer to a failure.
pub fn failure_for(status: u16, body: &[u8], connector: &str) -> Failure {
    let parsed: Option<ConnectErrorBody> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .map(|b| b.message.clone())
        .unwrap_or_else(|| http::unquoted(body));
    let detail = if message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {message}")
    };
    let body = if parsed.is_some() {
        ErrorBody::Source
    } else {
        ErrorBody::Foreign
    };
    let kind = probe::classify(SourceKind::KafkaConnect, status, body);
    let text = match kind {
        FailureKind::ConnectorNotFound => {
            format!("connector {connector:?} not found in Kafka Connect ({detail})")
        }
        FailureKind::InvalidResponse if status == 404 => {
            format!("{detail} without a Kafka Connect error body: is the Kafka Connect URL right?")
        }
        FailureKind::InvalidResponse => {
            format!("Kafka Connect redirected ({detail}): set the final URL")
        }
        FailureKind::Unauthenticated => format!("Kafka Connect refused the credentials: {detail}"),
        FailureKind::PermissionDenied => {
            format!("the credentials may not read this connector: {detail}")
        }
        FailureKind::ConnectUnavailable => format!("Kafka Connect unavailable: {detail}"),
        _ => format!("Kafka Connect refused the request: {detail}"),
    };
    Failure::new(kind, text)
}

/// [`http::endpoint_url`], its error as a failure.
pub(super) fn endpoint_url(
    base: &Url,
    segments: &[&str],
    query: &[(&str, &str)],
) -> Result<Url, Failure> {
    http::endpoint_url(base, segments, query)
        .map_err(|e| Failure::new(FailureKind::InvalidArgument, e))
}

/// Most connectors one Kafka Connect listing may name (it has no paging).
pub const MAX_LISTED_CONNECTORS: usize = 100_000;

/// Parses `GET /connectors?expand=status`: `{"<name>": {"status": {...}, "info"?: {...}}}`.
/// Entries not wanted are skipped unread; a wanted entry without a status (a connector created a
/// moment ago) is kept as `None`: it exists.
pub fn parse_expanded_list(
    body: &[u8],
    wanted: Wanted<'_>,
) -> Result<Vec<(String, Option<ConnectStatus>)>, String> {
    struct ListVisitor<'w>(&'w (dyn Fn(&str) -> bool + Sync));
    impl<'de> Visitor<'de> for ListVisitor<'_> {
        type Value = Vec<(String, Option<ConnectStatus>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of connector names to their status")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut kept = Vec::new();
            let mut seen = 0usize;
            while let Some(name) = map.next_key::<String>()? {
                seen += 1;
                if seen > MAX_LISTED_CONNECTORS {
                    return Err(serde::de::Error::custom(format!(
                        "the list names more than {MAX_LISTED_CONNECTORS} connectors"
                    )));
                }
                if (self.0)(&name) {
                    let expanded = map.next_value::<Expanded>()?;
                    kept.push((name, expanded.status));
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(kept)
        }
    }
    #[derive(Deserialize)]
    struct Expanded {
        #[serde(default)]
        status: Option<ConnectStatus>,
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let list = de
        .deserialize_map(ListVisitor(wanted))
        .map_err(|e| format!("not a connector list: {}", probe::describe_json_error(&e)))?;
    de.end().map_err(|e| probe::describe_json_error(&e))?;
    Ok(list)
}
