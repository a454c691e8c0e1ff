use super::*;

#[test]
fn go_durations_parse_as_go_parses_them() {
    let ok = |s: &str, nanos: u64| {
        assert_eq!(
            parse_go_duration(s),
            Some(Duration::from_nanos(nanos)),
            "{s}"
        )
    };
    ok("0", 0);
    ok("30s", 30_000_000_000);
    ok("1m30s", 90_000_000_000);
    ok("2h45m", 9_900_000_000_000);
    ok("1.5h", 5_400_000_000_000);
    ok(".5s", 500_000_000);
    ok("1.s", 1_000_000_000);
    ok("300ms", 300_000_000);
    ok("10\u{b5}s", 10_000);
    ok("10us", 10_000);
    ok("7ns", 7);
    ok("+5s", 5_000_000_000);
    ok(" 5s ", 5_000_000_000);
    ok("1.0000000001s", 1_000_000_000);
    ok("9223372036854775807ns", i64::MAX as u64);
    ok("2562047h", 2_562_047 * 3_600_000_000_000);
    for bad in [
        "",
        "5",
        "s",
        "5x",
        "-5s",
        "-0",
        ".s",
        "1..5s",
        "5s-",
        "2562048h",
        "9223372036854775808ns",
        "6000000000000000h",
        "99999999999999999999999999999999999999999h",
    ] {
        assert_eq!(parse_go_duration(bad), None, "{bad:?}");
    }
}

#[test]
fn poll_interval_parses_go_durations_and_falls_back_on_garbage() {
    let spec = |p: &str| ManagedConnectorSpec {
        poll_interval: Some(p.into()),
        ..Default::default()
    };
    let d = DEFAULT_POLL_INTERVAL;
    assert_eq!(spec("2m").poll_interval(d), Duration::from_secs(120));
    assert_eq!(spec("1m30s").poll_interval(d), Duration::from_secs(90));
    assert_eq!(spec("1s").poll_interval(d), MIN_POLL_INTERVAL);
    assert_eq!(spec("2000000h").poll_interval(d), MAX_POLL_INTERVAL);
    assert_eq!(spec("soon").poll_interval(d), d);
    assert_eq!(spec("-5m").poll_interval(d), d);
    assert_eq!(
        ManagedConnectorSpec::default().poll_interval(Duration::from_secs(60)),
        Duration::from_secs(60)
    );
}

#[test]
fn connector_name_defaults_to_metadata_name() {
    let mut mc = ManagedConnector::new("orders-sink", ManagedConnectorSpec::default());
    assert_eq!(mc.connector_name(), "orders-sink");
    mc.spec.connector_name = Some("Orders_Sink.v2".into());
    assert_eq!(mc.connector_name(), "Orders_Sink.v2");
}
