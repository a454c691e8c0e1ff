use super::*;
use std::collections::BTreeMap;

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
    h.insert(
        "auth0-organization-quota-limit",
        "b=per_day;q=100;r=0;t=18446744073709551615"
            .parse()
            .unwrap(),
    );
    assert_eq!(quota_wait(&h), Some(MAX_QUOTA_WAIT));
}

#[test]
fn token_answers() {
    let lifetime = |body: &str| parse_token_answer(body.as_bytes()).map(|(_, l)| l.as_secs());
    assert_eq!(
        lifetime(r#"{"access_token":"t","expires_in":86400}"#),
        Some(86_400)
    );
    assert_eq!(
        lifetime(r#"{"access_token":"t","expires_in":"600"}"#),
        Some(600)
    );
    assert_eq!(lifetime(r#"{"access_token":"t"}"#), Some(3600));
    // Out of range either way: clamped, never a token per probe, never a clock overflow.
    assert_eq!(lifetime(r#"{"access_token":"t","expires_in":0}"#), Some(60));
    assert_eq!(
        lifetime(r#"{"access_token":"t","expires_in":18446744073709551615}"#),
        Some(86_400)
    );
    assert_eq!(
        lifetime(r#"{"access_token":"t","expires_in":1e300}"#),
        Some(3600)
    );
    assert_eq!(lifetime(r#"{"access_token":"","expires_in":60}"#), None);
    assert_eq!(lifetime(r#"{"error":"x"}"#), None);
    assert_eq!(lifetime("not json"), None);
    let (token, _) = parse_token_answer(br#"{"access_token":"s3cret"}"#).unwrap();
    assert_eq!(token.expose(), "s3cret");
    assert!(!format!("{token:?}").contains("s3cret"));
}

fn token(value: &str) -> BearerToken {
    BearerToken(value.to_string().into())
}

fn decided(slot: &Slot, now: Instant) -> String {
    match slot.decide(now, Duration::from_secs(60)) {
        Decision::Use(t) => format!("use {}", t.expose()),
        Decision::Fetch => "fetch".into(),
        Decision::Refuse(f) => format!(
            "refuse {:?} for {}s",
            f.kind,
            f.retry_after.unwrap_or_default().as_secs()
        ),
    }
}

#[test]
fn a_token_is_reused_refreshed_before_expiry_and_requested_at_most_once_a_minute() {
    let t0 = Instant::now();
    let s = |secs: u64| Duration::from_secs(secs);
    // A token of 60 s: refreshed after 48 s, but not before a minute has passed since the
    // last request, so the still-valid token is sent meanwhile.
    let mut slot = Slot {
        token: Some((token("a"), t0 + refresh_after(s(60)))),
        last_request: Some(t0),
        ..Slot::default()
    };
    assert_eq!(decided(&slot, t0 + s(10)), "use a");
    assert_eq!(decided(&slot, t0 + s(50)), "use a");
    assert_eq!(decided(&slot, t0 + s(60)), "fetch");
    // Refused (401) a minute into its life: the next one may be requested at once.
    slot.token = None;
    slot.refused_in_a_row = 1;
    assert_eq!(decided(&slot, t0 + s(61)), "fetch");
    // Refused right after it was issued: one minute, then two, four..., at most an hour.
    slot.last_request = Some(t0);
    assert_eq!(decided(&slot, t0 + s(1)), "refuse Unauthenticated for 59s");
    slot.refused_in_a_row = 2;
    assert_eq!(decided(&slot, t0 + s(1)), "refuse Unauthenticated for 119s");
    slot.refused_in_a_row = 3;
    assert_eq!(decided(&slot, t0 + s(1)), "refuse Unauthenticated for 239s");
    slot.refused_in_a_row = u32::MAX;
    assert_eq!(
        decided(&slot, t0 + s(1)),
        "refuse Unauthenticated for 3599s"
    );
    assert_eq!(decided(&slot, t0 + s(3600)), "fetch");
    // The token endpoint's own block (quota, rejected credentials) comes first.
    slot.blocked = Some((
        t0 + s(7200),
        Failure::new(FailureKind::TokenQuotaExceeded, "quota"),
    ));
    assert_eq!(
        decided(&slot, t0 + s(3600)),
        "refuse TokenQuotaExceeded for 3600s"
    );
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
    let a =
        Credentials::from_secret_data(&data(&[("client_id", "id"), ("client_secret", "s1")]), &d)
            .unwrap();
    let b =
        Credentials::from_secret_data(&data(&[("client_id", "id"), ("client_secret", "s1")]), &d)
            .unwrap();
    let c =
        Credentials::from_secret_data(&data(&[("client_id", "id"), ("client_secret", "s2")]), &d)
            .unwrap();
    assert_eq!(credential_key(&a, &h), credential_key(&b, &h));
    assert_ne!(credential_key(&a, &h), credential_key(&c, &h));
}
