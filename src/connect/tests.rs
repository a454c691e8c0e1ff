use super::*;
use std::collections::BTreeMap;

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn credentials_shapes() {
    assert!(matches!(
        ConnectAuth::from_secret_data(&data(&[("username", "u"), ("password", "p")])),
        Ok(ConnectAuth::Basic { .. })
    ));
    assert!(matches!(
        ConnectAuth::from_secret_data(&data(&[("token", "t")])),
        Ok(ConnectAuth::Bearer(_))
    ));
    for (bad, words) in [
        (data(&[]), "neither"),
        (data(&[("username", "u")]), "no password"),
        (data(&[("password", "p")]), "no username"),
        (
            data(&[("username", "u"), ("password", "p"), ("token", "t")]),
            "both",
        ),
    ] {
        let e = ConnectAuth::from_secret_data(&bad).expect_err("invalid");
        assert!(e.contains(words), "{e}");
    }
    let basic = ConnectAuth::from_secret_data(&data(&[("username", "u"), ("password", "hunter2")]))
        .unwrap();
    assert!(!format!("{basic:?}").contains("hunter2"));
}

#[test]
fn expanded_lists_keep_wanted_statuses() {
    let body = br#"{
        "orders": {"status": {"name": "orders", "connector": {"state": "RUNNING", "worker_id": "w:8083"},
                    "tasks": [{"id": 0, "state": "FAILED", "worker_id": "w:8083", "trace": "boom"}], "type": "sink"},
                   "info": {"name": "orders", "config": {"k": "v"}}},
        "other": {"status": {"name": "other", "connector": {"state": "PAUSED"}, "tasks": []}},
        "no-status": {"info": {}}
    }"#;
    let kept = parse_expanded_list(body, &|n: &str| n != "other").expect("parses");
    assert_eq!(kept.len(), 2, "other not wanted");
    assert_eq!(kept[0].0, "orders");
    assert_eq!(kept[0].1.as_ref().unwrap().tasks[0].state, "FAILED");
    assert_eq!(
        kept[1],
        ("no-status".to_string(), None),
        "exists, no status"
    );
    assert_eq!(
        parse_expanded_list(b"{}", &|_: &str| true).unwrap().len(),
        0
    );
    assert!(parse_expanded_list(b"[]", &|_: &str| true).is_err());
    assert!(parse_expanded_list(br#"{"a": {"status": 1}}"#, &|_: &str| true).is_err());
}

#[test]
fn error_bodies_map_to_failures() {
    let nf = br#"{"error_code":404,"message":"No status found for connector nope"}"#;
    assert_eq!(
        failure_for(404, nf, "nope").kind,
        FailureKind::ConnectorNotFound
    );
    assert!(
        failure_for(404, nf, "nope")
            .message
            .contains("No status found for connector nope")
    );
    assert_eq!(
        failure_for(404, b"<html>", "x").kind,
        FailureKind::InvalidResponse
    );
    assert_eq!(
        failure_for(401, br#"{"error_code":401,"message":"Unauthorized"}"#, "x").kind,
        FailureKind::Unauthenticated
    );
    assert_eq!(
        failure_for(403, b"", "x").kind,
        FailureKind::PermissionDenied
    );
    assert_eq!(failure_for(409, br#"{"error_code":409,"message":"Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"}"#, "x").kind, FailureKind::ConnectUnavailable);
    assert_eq!(
        failure_for(500, b"", "x").kind,
        FailureKind::ConnectUnavailable
    );
    assert_eq!(
        failure_for(400, b"", "x").kind,
        FailureKind::InvalidArgument
    );
}
