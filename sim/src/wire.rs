//! The Data Plane's answers as Redpanda's own code spells them (`tests/data/dataplane-captured/`):
//! `google.rpc.Status` error bodies with an `ErrorInfo` detail, Kafka Connect's messages passed
//! through with their `(status)` suffix, opaque page tokens, plugin descriptions.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

/// The gRPC code name of an HTTP status, as the gateway maps them.
pub fn code_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        502..=504 => "UNAVAILABLE",
        _ => "INTERNAL",
    }
}

/// An `ErrorInfo` detail.
pub fn error_info(reason: &str) -> Value {
    json!({
        "@type": "google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "redpanda.com/dataplane",
        "metadata": {},
    })
}

/// A JSON answer.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An error answer with these details.
pub fn rpc_error_with(
    status: StatusCode,
    code: &str,
    message: &str,
    details: Vec<Value>,
) -> Response {
    json_response(
        status,
        json!({"code": code, "message": message, "details": details}),
    )
}

/// An error answer with one `ErrorInfo` (or none).
pub fn rpc_error(status: StatusCode, code: &str, message: &str, reason: Option<&str>) -> Response {
    rpc_error_with(
        status,
        code,
        message,
        reason.map(error_info).into_iter().collect(),
    )
}

/// What Kafka Connect answered, passed through: its message and its status, code by status.
pub fn connect_error(status: StatusCode, message: &str) -> Response {
    rpc_error(
        status,
        code_name(status.as_u16()),
        message,
        Some("REASON_KAFKA_CONNECT_API_ERROR"),
    )
}

/// The cluster name matches no configured Connect cluster.
pub fn unknown_cluster() -> Response {
    connect_error(
        StatusCode::NOT_FOUND,
        "a client for the given cluster name does not exist",
    )
}

/// `400 INVALID_ARGUMENT` with one field violation per `(field, description)`.
pub fn invalid_input(violations: &[(&str, &str)]) -> Response {
    let violations: Vec<Value> = violations
        .iter()
        .map(|(f, d)| json!({"field": f, "description": d, "reason": ""}))
        .collect();
    rpc_error_with(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        "provided parameters are invalid",
        vec![
            error_info("REASON_INVALID_INPUT"),
            json!({"@type": "google.rpc.BadRequest", "field_violations": violations}),
        ],
    )
}

/// The answer of every call that reaches a Connect worker that is down: the dial error.
pub fn worker_down(address: &str, path: &str) -> Response {
    let host = address
        .split_once("://")
        .map_or(address, |(_, rest)| rest)
        .trim_end_matches('/');
    connect_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!(
            "Get \"{}{path}\": dial tcp {host}: connect: connection refused",
            address.trim_end_matches('/')
        ),
    )
}

/// One plugin: (`type`, `version`, `class`).
pub type Plugin = (String, String, String);

/// Kafka Connect's refusal of an unknown `connector.class`, listing the plugins it has.
pub fn class_not_found(class: &str, plugins: &[Plugin]) -> String {
    let described: Vec<String> = plugins
        .iter()
        .map(|(type_, version, class)| {
            format!(
                "PluginDesc{{klass=class {class}, name='{class}', version='{version}', encodedVersion={version}, type={type_}, typeName='{type_}', location='classpath'}}"
            )
        })
        .collect();
    format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        described.join(", ")
    )
}

/// The page token of a page starting at `name`: base64 of the protobuf message
/// `{1: "name", 2: <name>}`, byte for byte what Redpanda sends.
pub fn page_token(name: &str) -> String {
    let mut raw = vec![0x0a, 4];
    raw.extend_from_slice(b"name");
    raw.push(0x12);
    push_varint(&mut raw, name.len());
    raw.extend_from_slice(name.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The name a page token starts at; `None` for a token this server did not make.
pub fn page_start(token: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let rest = raw.strip_prefix(&[0x0a, 4][..])?.strip_prefix(b"name")?;
    let rest = rest.strip_prefix(&[0x12][..])?;
    let (len, rest) = read_varint(rest)?;
    (rest.len() == len).then(|| String::from_utf8(rest.to_vec()).ok())?
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut n = 0usize;
    for (i, b) in bytes.iter().enumerate().take(4) {
        n |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((n, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_are_redpandas() {
        // As captured: the token of the page that starts at `src-ok`.
        assert_eq!(page_token("src-ok"), "CgRuYW1lEgZzcmMtb2s=");
        for name in ["a", "src-ok", &"x".repeat(300)] {
            assert_eq!(page_start(&page_token(name)).as_deref(), Some(name));
        }
        assert_eq!(page_start("5"), None);
        assert_eq!(page_start("bm90IGEgdG9rZW4="), None);
    }
}
