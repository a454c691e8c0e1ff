//! The Data Plane's wire shapes (pure parsing): status answers in both shapes, read as they
//! stream in and bounded; `google.rpc.Status` error bodies; the endpoint URLs.

use super::*;

/// A connector's status as the Data Plane API answers it.
pub type StatusResponse = Report;

/// Server-parsed errors kept from one answer; the status lists far fewer.
pub(super) const MAX_SERVER_ERRORS: usize = 100;

/// Parses a 200 body in either shape: `{"status": ConnectorStatus}` (the v1 server) or a flat
/// `ConnectorStatus` (the documents, and v1alpha2). Read as it streams in: tasks beyond
/// [`health::MAX_LISTED_TASKS`] are only counted and server errors beyond a hundred skipped, so no
/// answer costs more than its bytes and a bounded number of objects.
pub fn parse_status_body(body: &[u8]) -> Result<StatusResponse, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let answer = StatusLevel::deserialize(&mut de).map_err(|e| probe::describe_json_error(&e))?;
    de.end().map_err(|e| probe::describe_json_error(&e))?;
    Ok(answer.into_response())
}

/// One level of a status answer; `wrapped` is what its `status` key held, when an object.
#[derive(Default)]
pub(crate) struct StatusLevel {
    fields: health::StatusFields,
    holistic_state: Option<String>,
    errors: Option<Vec<ServerError>>,
    wrapped: Option<Box<StatusLevel>>,
}

impl StatusLevel {
    pub(crate) fn into_response(self) -> StatusResponse {
        match self.wrapped {
            Some(inner) => inner.into_response(),
            None => StatusResponse {
                status: self.fields.status,
                holistic_state: self.holistic_state,
                errors: self.errors,
            },
        }
    }
}

impl<'de> Deserialize<'de> for StatusLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AnswerVisitor)
    }
}

pub(super) struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = StatusLevel;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StatusLevel, A::Error> {
        let mut answer = StatusLevel::default();
        while let Some(key) = map.next_key::<String>()? {
            if answer.fields.read(&key, &mut map)? {
                continue;
            }
            match key.as_str() {
                "holistic_state" => answer.holistic_state = map.next_value()?,
                "errors" => {
                    answer.errors = map
                        .next_value::<Option<Capped<ServerError, MAX_SERVER_ERRORS>>>()?
                        .map(|c| c.0)
                }
                "status" => answer.wrapped = map.next_value::<ObjectOrNot>()?.0.map(Box::new),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(answer)
    }
}

/// The value of `status`: an answer when it is an object, nothing otherwise.
pub(crate) struct ObjectOrNot(pub(crate) Option<StatusLevel>);

impl<'de> Deserialize<'de> for ObjectOrNot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = ObjectOrNot;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ObjectOrNot, A::Error> {
                AnswerVisitor.visit_map(map).map(|a| ObjectOrNot(Some(a)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ObjectOrNot, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ObjectOrNot(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_unit<E>(self) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
        }
        d.deserialize_any(Any)
    }
}

/// The first `N` elements of a list; the rest are read past without being kept.
pub(super) struct Capped<T, const N: usize>(Vec<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Capped<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List<T, const N: usize>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for List<T, N> {
            type Value = Capped<T, N>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped<T, N>, A::Error> {
                let mut kept = Vec::new();
                while kept.len() < N {
                    match seq.next_element()? {
                        Some(item) => kept.push(item),
                        None => return Ok(Capped(kept)),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Capped(kept))
            }
        }
        d.deserialize_seq(List(std::marker::PhantomData))
    }
}

/// A `google.rpc.Status` error body, read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpcError {
    /// The code's name (`NOT_FOUND`), whether it came as a name or a number.
    pub code: Option<String>,
    /// The message.
    pub message: String,
    /// `reason` of a `google.rpc.ErrorInfo` detail.
    pub reason: Option<String>,
}

/// gRPC code numbers and their names (google/rpc/code.proto).
pub(super) const RPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Parses a `google.rpc.Status` body; `None` when the body is not one (an HTML error page, or
/// any other JSON: only the API's own shape, a `code` as a name or number and a `message` string,
/// is quoted into conditions).
pub fn parse_rpc_error(body: &[u8]) -> Option<RpcError> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let code_ok = matches!(
        obj.get("code"),
        Some(serde_json::Value::String(_) | serde_json::Value::Number(_))
    );
    if !code_ok || !obj.get("message").is_some_and(serde_json::Value::is_string) {
        return None;
    }
    let code = match obj.get("code") {
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .and_then(|n| RPC_CODES.get(n as usize))
            .map(|s| s.to_string()),
        Some(serde_json::Value::String(s)) => match s.parse::<usize>() {
            Ok(n) => RPC_CODES.get(n).map(|s| s.to_string()),
            Err(_) => Some(s.to_uppercase()),
        },
        _ => None,
    };
    let reason = obj
        .get("details")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .find(|d| {
            d.get("@type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.rsplit('/').next() == Some("google.rpc.ErrorInfo"))
        })
        .and_then(|d| d.get("reason"))
        .and_then(|r| r.as_str())
        .map(str::to_string);
    Some(RpcError {
        code,
        message: obj
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string(),
        reason,
    })
}

/// The status endpoint's URL: the base URL (which may carry a path prefix) plus
/// `v1/kafka-connect/clusters/{cluster}/connectors/{name}/status`, each segment percent-encoded.
pub fn status_url(base: &Url, cluster: &str, connector: &str) -> Result<Url, String> {
    connector_url(base, cluster, connector, &["status"])
}

/// `v1/kafka-connect/clusters/{cluster}/connectors/{name}` plus `tail` (`status`, `config`,
/// `pause`, ...), under the base URL, each segment percent-encoded.
pub fn connector_url(
    base: &Url,
    cluster: &str,
    connector: &str,
    tail: &[&str],
) -> Result<Url, String> {
    let mut segments = vec![
        "v1",
        "kafka-connect",
        "clusters",
        cluster,
        "connectors",
        connector,
    ];
    segments.extend_from_slice(tail);
    http::endpoint_url(base, &segments, &[])
}
