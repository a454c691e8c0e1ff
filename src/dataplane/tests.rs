use super::*;
use crate::crd::HolisticState;

#[test]
fn both_body_shapes_parse_the_same() {
    let flat = r#"{"name":"orders","connector":{"state":"RUNNING","worker_id":"w:8083","trace":""},
        "tasks":[{"id":0,"state":"RUNNING","worker_id":"w:8083","trace":""}],"type":"sink",
        "holistic_state":"CONNECTOR_HOLISTIC_STATE_HEALTHY","errors":[],"unknown_field":{"x":1}}"#;
    let wrapped = format!(r#"{{"status":{flat}}}"#);
    let a = parse_status_body(flat.as_bytes()).expect("flat");
    let b = parse_status_body(wrapped.as_bytes()).expect("wrapped");
    assert_eq!(a, b);
    assert_eq!(a.status.name, "orders");
    assert_eq!(
        a.holistic_state.as_deref(),
        Some("CONNECTOR_HOLISTIC_STATE_HEALTHY")
    );
    assert_eq!(a.errors, Some(vec![]));
    let assessed = health::assess(&a.status, a.holistic_state.as_deref(), a.errors.as_deref());
    assert_eq!(assessed.state, HolisticState::Healthy);
}

#[test]
fn absent_extras_and_bad_bodies() {
    let r = parse_status_body(
        br#"{"name":"x","connector":{"state":"FAILED"},"tasks":[],"type":"source"}"#,
    )
    .unwrap();
    assert_eq!(r.holistic_state, None);
    assert_eq!(r.errors, None);
    assert!(parse_status_body(b"{not json").is_err());
    assert!(parse_status_body(b"[1,2]").is_err());
    assert!(parse_status_body(br#"{"tasks":"nope"}"#).is_err());
}

#[test]
fn rpc_error_codes_as_names_or_numbers() {
    let by_name = parse_rpc_error(br#"{"code":"NOT_FOUND","message":"No status found for connector x (404)","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_KAFKA_CONNECT_API_ERROR","domain":"redpanda.com/dataplane"}]}"#).unwrap();
    assert_eq!(by_name.code.as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        by_name.reason.as_deref(),
        Some("REASON_KAFKA_CONNECT_API_ERROR")
    );
    let by_number = parse_rpc_error(
        br#"{"code":5,"message":"m","details":[{"@type":"google.rpc.ErrorInfo","reason":"R"}]}"#,
    )
    .unwrap();
    assert_eq!(by_number.code.as_deref(), Some("NOT_FOUND"));
    assert_eq!(by_number.reason.as_deref(), Some("R"));
    let by_numeric_string =
        parse_rpc_error(br#"{"code":"16","message":"Bearer token is not present"}"#).unwrap();
    assert_eq!(by_numeric_string.code.as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(parse_rpc_error(b"<html>502 Bad Gateway</html>"), None);
    assert_eq!(parse_rpc_error(br#"{"other":1}"#), None);
    // Only the API's own shape is quoted: any JSON with a `message` is not it.
    for foreign in [
        &br#"{"message":"internal-only"}"#[..],
        br#"{"code":"X","message":{"internal":"only"}}"#,
        br#"{"code":null,"message":"internal-only"}"#,
        br#""internal-only""#,
    ] {
        assert_eq!(parse_rpc_error(foreign), None, "{foreign:?}");
    }
}

fn api(status: u16, message: &str, rpc_body: bool) -> DataplaneError {
    DataplaneError::Api {
        status,
        code: None,
        message: message.into(),
        retry_after: None,
        rpc_body,
    }
}

#[test]
fn failures_are_classified() {
    let table = [
        (
            api(404, "No status found for connector x (404)", true),
            FailureKind::ConnectorNotFound,
        ),
        (
            api(
                404,
                "a client for the given cluster name does not exist",
                true,
            ),
            FailureKind::ClusterNotFound,
        ),
        (
            api(404, "<html>not found</html>", false),
            FailureKind::InvalidResponse,
        ),
        (
            api(400, "provided parameters are invalid", true),
            FailureKind::InvalidArgument,
        ),
        (
            api(401, "Bearer token is not present", true),
            FailureKind::Unauthenticated,
        ),
        (api(403, "", true), FailureKind::PermissionDenied),
        (
            api(409, "rebalance", true),
            FailureKind::DataPlaneUnavailable,
        ),
        (
            api(429, "slow down", false),
            FailureKind::DataPlaneUnavailable,
        ),
        (api(500, "", true), FailureKind::DataPlaneUnavailable),
        (api(501, "", true), FailureKind::FeatureNotConfigured),
        (api(503, "", false), FailureKind::DataPlaneUnavailable),
        (api(302, "", false), FailureKind::InvalidResponse),
        (
            DataplaneError::Timeout(Duration::from_secs(10)),
            FailureKind::DataPlaneUnavailable,
        ),
        (
            DataplaneError::Transport("connection refused".into()),
            FailureKind::DataPlaneUnavailable,
        ),
        (
            DataplaneError::BodyTooLarge { limit: 10 },
            FailureKind::InvalidResponse,
        ),
        (
            DataplaneError::InvalidBody("eof".into()),
            FailureKind::InvalidResponse,
        ),
    ];
    for (err, kind) in table {
        assert_eq!(err.to_failure("redpanda", "x").kind, kind, "{err}");
    }
}

#[test]
fn path_segments_are_percent_encoded_under_a_base_path() {
    let base = Url::parse("https://api.example.com/prefix/").unwrap();
    let u = status_url(&base, "redpanda", "a/b c?d#e%").unwrap();
    assert_eq!(
        u.as_str(),
        "https://api.example.com/prefix/v1/kafka-connect/clusters/redpanda/connectors/a%2Fb%20c%3Fd%23e%25/status"
    );
    let bare = Url::parse("http://127.0.0.1:8080").unwrap();
    assert_eq!(
        status_url(&bare, "redpanda", "orders").unwrap().path(),
        "/v1/kafka-connect/clusters/redpanda/connectors/orders/status"
    );
}

#[test]
fn list_refusals_map_to_fallback_or_failure() {
    let api = |status: u16, message: &str, rpc_body: bool| {
        Refusal::Api(DataplaneError::Api {
            status,
            code: None,
            message: message.into(),
            retry_after: None,
            rpc_body,
        })
    };
    assert!(matches!(
        list_failure(api(501, "", true), "c"),
        ListFailure::Unsupported(_)
    ));
    assert!(matches!(
        list_failure(api(403, "", true), "c"),
        ListFailure::Unsupported(_)
    ));
    assert!(matches!(
        list_failure(api(404, "<html>", false), "c"),
        ListFailure::Unsupported(_)
    ));
    match list_failure(
        api(
            404,
            "a client for the given cluster name does not exist",
            true,
        ),
        "c",
    ) {
        ListFailure::Failed(f) => assert_eq!(f.kind, FailureKind::ClusterNotFound),
        other => panic!("{other:?}"),
    }
    match list_failure(api(503, "", false), "c") {
        ListFailure::Failed(f) => assert_eq!(f.kind, FailureKind::DataPlaneUnavailable),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        list_failure(
            Refusal::Api(DataplaneError::Paused(Duration::from_secs(3))),
            "c"
        ),
        ListFailure::Deferred(_)
    ));
}
