use super::*;

fn plugin(class: &str, type_: &str, version: &str) -> Plugin {
    Plugin {
        class: class.into(),
        type_: type_.into(),
        version: version.into(),
    }
}

fn cluster() -> Vec<Plugin> {
    vec![
        plugin(
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "sink",
            "4.3.1",
        ),
        plugin(
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "source",
            "4.3.1",
        ),
        plugin("io.example.JdbcSink", "sink", "1.0.0"),
        plugin("io.example.JdbcSink", "sink", "2.1.0"),
        plugin(
            "org.apache.kafka.connect.transforms.Cast$Key",
            "transformation",
            "4.3.1",
        ),
    ]
}

#[test]
fn classes_and_their_aliases_name_a_plugin() {
    let class = "org.apache.kafka.connect.file.FileStreamSinkConnector";
    for (declared, names_it) in [
        (class, true),
        ("FileStreamSinkConnector", true),
        ("FileStreamSink", true),
        ("FileStream", false),
        ("org.apache.kafka.connect.file.FileStreamSink", false),
        ("filestreamsink", false),
        ("", false),
    ] {
        assert_eq!(names(declared, class), names_it, "{declared}");
    }
}

#[test]
fn lookup_finds_the_class_and_the_declared_version() {
    let plugins = cluster();
    // (declared class, declared version) -> (class, version, found)
    type Row<'a> = (&'a str, Option<&'a str>, (&'a str, Option<&'a str>, bool));
    let table: [Row; 7] = [
        (
            "FileStreamSink",
            None,
            (
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
                Some("4.3.1"),
                true,
            ),
        ),
        (
            "io.example.JdbcSink",
            None,
            ("io.example.JdbcSink", Some("1.0.0"), true),
        ),
        (
            "io.example.JdbcSink",
            Some("2.1.0"),
            ("io.example.JdbcSink", Some("2.1.0"), true),
        ),
        (
            "io.example.JdbcSink",
            Some("3.0.0"),
            ("io.example.JdbcSink", None, false),
        ),
        // A range is the cluster's to evaluate: the class decides here.
        (
            "io.example.JdbcSink",
            Some("[2.0,3.0)"),
            ("io.example.JdbcSink", Some("1.0.0"), true),
        ),
        (
            "com.example.Missing",
            None,
            ("com.example.Missing", None, false),
        ),
        (
            "com.example.Missing",
            Some(""),
            ("com.example.Missing", None, false),
        ),
    ];
    for (class, version, (want_class, want_version, found)) in table {
        let got = lookup(&plugins, class, version);
        assert_eq!(
            (got.class.as_str(), got.version.as_deref(), got.found),
            (want_class, want_version, found),
            "{class} {version:?}"
        );
    }
    assert_eq!(
        lookup(&plugins, "FileStreamSource", None).type_.as_deref(),
        Some("source")
    );
}

#[test]
fn a_missing_plugin_names_what_the_cluster_has() {
    let plugins = cluster();
    let f = not_found("com.example.Missing", None, &plugins);
    assert_eq!(f.kind, FailureKind::PluginNotFound);
    assert!(
        f.message.starts_with(
            "the Connect cluster has no plugin com.example.Missing (connector.class); it has: io.example.JdbcSink, org.apache.kafka.connect.file.FileStreamSinkConnector, org.apache.kafka.connect.file.FileStreamSourceConnector;"
        ),
        "{}",
        f.message
    );
    assert!(
        !f.message.contains("Cast$Key"),
        "transformations are not connectors"
    );
    let f = not_found("io.example.JdbcSink", Some("3.0.0"), &plugins);
    assert!(
        f.message.starts_with(
            "the Connect cluster has io.example.JdbcSink only in version 1.0.0, 2.1.0, not 3.0.0 (connector.plugin.version)"
        ),
        "{}",
        f.message
    );
    let many: Vec<Plugin> = (0..25)
        .map(|i| plugin(&format!("c.P{i:02}"), "sink", "1"))
        .collect();
    let f = not_found("x", None, &many);
    assert!(f.message.contains("c.P09 and 15 more;"), "{}", f.message);
    assert!(!f.message.contains("c.P10"), "{}", f.message);
    let f = not_found("x", None, &[]);
    assert!(f.message.contains("it has: none;"), "{}", f.message);
}

#[test]
fn invalid_fields_are_bounded_sorted_and_keep_no_secret() {
    let redactor = Redactor::new(["hunter22"]);
    let answer = vec![
        FieldErrors {
            name: "tasks.max".into(),
            errors: vec![
                "Invalid value zero for configuration tasks.max: Not a number of type INT".into(),
                "Invalid value null for configuration tasks.max: Value must be non-null".into(),
            ],
        },
        FieldErrors {
            name: "name".into(),
            errors: vec![],
        },
        FieldErrors {
            name: "errors.tolerance".into(),
            errors: vec![
                "Invalid value hunter22 for configuration errors.tolerance: String must be one of: none, all".into(),
            ],
        },
    ];
    let fields = invalid_fields(&answer, &redactor);
    assert_eq!(
        fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["errors.tolerance", "tasks.max"]
    );
    assert_eq!(
        fields[0].errors,
        [
            "Invalid value [redacted] for configuration errors.tolerance: String must be one of: none, all"
        ]
    );
    let f = invalid(&fields, 2);
    assert_eq!(f.kind, FailureKind::ConfigInvalid);
    assert_eq!(
        f.message,
        "the plugin's validation refused spec.config (2 field(s)): errors.tolerance: Invalid value [redacted] for configuration errors.tolerance: String must be one of: none, all; tasks.max: Invalid value zero for configuration tasks.max: Not a number of type INT"
    );

    let flood: Vec<FieldErrors> = (0..100)
        .map(|i| FieldErrors {
            name: format!("k{i:03}"),
            errors: (0..10).map(|_| "x".repeat(2_000)).collect(),
        })
        .collect();
    let fields = invalid_fields(&flood, &Redactor::default());
    assert_eq!(fields.len(), MAX_INVALID_FIELDS);
    assert!(fields.iter().all(|f| f.errors.len() == MAX_FIELD_ERRORS));
    assert!(fields[0].errors[0].len() <= MAX_ERROR_BYTES);
    let f = invalid(&fields, flood.len());
    assert!(
        f.message
            .ends_with("; and 92 more field(s) in status.config.invalidFields"),
        "{}",
        &f.message[f.message.len() - 80..]
    );
}

#[test]
fn plugin_lists_of_both_sources_are_read() {
    let connect = br#"[{"class":"a.B","type":"sink","version":"4.3.1"},{"class":"a.C","type":"source","version":"4.3.1"}]"#;
    let dataplane = br#"{"cluster":{"name":"redpanda","address":"http://127.0.0.1:38083","info":{"version":"3.9.1"},"plugins":[{"type":"sink","version":"3.9.1","class":"a.B"}]}}"#;
    let got = parse_plugins(connect).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], plugin("a.C", "source", "4.3.1"));
    assert_eq!(
        parse_plugins(dataplane).unwrap(),
        [plugin("a.B", "sink", "3.9.1")]
    );
    assert!(parse_plugins(br#"{"cluster":{}}"#).unwrap().is_empty());
    let err = parse_plugins(br#"{"secret":"hunter22"}"#).unwrap_err();
    assert!(!err.contains("hunter22"), "{err}");
    let many = format!("[{}]", vec![r#"{"class":"x"}"#; MAX_PLUGINS + 5].join(","));
    assert_eq!(parse_plugins(many.as_bytes()).unwrap().len(), MAX_PLUGINS);
}

#[test]
fn a_validation_answer_keeps_names_and_errors_only() {
    // Shaped as Kafka Connect 4.3 answers (trimmed).
    let body = br#"{"name":"org.apache.kafka.connect.file.FileStreamSinkConnector","error_count":2,"groups":["Common"],"configs":[
      {"definition":{"name":"name","type":"STRING","required":true},"value":{"name":"name","value":"x","recommended_values":[],"errors":[],"visible":true}},
      {"definition":{"name":"tasks.max"},"value":{"name":"tasks.max","value":null,"recommended_values":[],"errors":["Invalid value zero for configuration tasks.max: Not a number of type INT"],"visible":true}},
      {"definition":{"name":"db.password","type":"PASSWORD"},"value":{"name":"db.password","value":"[hidden]","errors":["bad"],"visible":true}}]}"#;
    let got = parse_validation(body).unwrap();
    assert_eq!(
        got,
        [
            FieldErrors {
                name: "tasks.max".into(),
                errors: vec![
                    "Invalid value zero for configuration tasks.max: Not a number of type INT"
                        .into()
                ],
            },
            FieldErrors {
                name: "db.password".into(),
                errors: vec!["bad".into()],
            },
        ]
    );
    assert!(
        parse_validation(br#"{"error_count":0,"configs":[]}"#)
            .unwrap()
            .is_empty()
    );
    assert!(parse_validation(b"<html>").is_err());
}
