use super::*;

/// A server that answers 200 to everything, counting the requests it got.
async fn counting_server() -> (Url, Arc<std::sync::atomic::AtomicUsize>) {
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = hits.clone();
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { "{}" }
        });
        let _ = axum::serve(listener, app).await;
    });
    (Url::parse(&format!("http://{addr}/x")).unwrap(), hits)
}

#[tokio::test]
async fn a_tenant_holds_at_most_its_share_and_waiting_has_a_deadline() {
    let (url, hits) = counting_server().await;
    let gate = Arc::new(Gate::new(1000, 4).with_slot_wait(Duration::from_millis(300)));
    let http = client(Duration::from_secs(5), &[], false).unwrap();
    // The share is all but a quarter of 4 slots: 3. Hold them as tenant "a" does.
    let share = gate.share_of(&gate.tenants, "a");
    let held = share.clone().acquire_many_owned(3).await.unwrap();
    let fetch = |tenant: &'static str| {
        let (gate, http, url) = (gate.clone(), http.clone(), url.clone());
        TENANT.scope(tenant.to_string(), async move {
            gate.fetch(http.get(url.clone()), &url, 1024, Duration::from_secs(5))
                .await
        })
    };
    assert_eq!(
        fetch("a").await.err(),
        Some(FetchError::Busy(Duration::from_millis(300)))
    );
    assert!(fetch("b").await.is_ok(), "another tenant still gets a slot");
    drop(held);
    assert!(fetch("a").await.is_ok());
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_command_is_not_sent_once_its_sender_may_no_longer_send() {
    let (url, hits) = counting_server().await;
    let gate = Gate::new(1000, 4);
    let http = client(Duration::from_secs(5), &[], false).unwrap();
    let deposed: SendCheck = Arc::new(|| false);
    let sent = MAY_SEND
        .scope(
            deposed,
            gate.fetch(http.get(url.clone()), &url, 1024, Duration::from_secs(5)),
        )
        .await;
    assert_eq!(sent.err(), Some(FetchError::Fenced));
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn retry_after_and_ratelimit_headers() {
    let mut h = HeaderMap::new();
    assert_eq!(retry_after(&h), None);
    h.insert(
        "ratelimit",
        "limit=500,remaining=0,reset=7".parse().unwrap(),
    );
    assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
    h.insert(
        "ratelimit",
        "limit=500,remaining=3,reset=7".parse().unwrap(),
    );
    assert_eq!(retry_after(&h), None);
    h.insert("retry-after", "12".parse().unwrap());
    assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
    // A wait of centuries is a mistake or an attack, and would overflow the clock.
    h.insert("retry-after", "18446744073709551615".parse().unwrap());
    assert_eq!(retry_after(&h), Some(MAX_SERVER_WAIT));
    h.remove("retry-after");
    h.insert(
        "ratelimit",
        "limit=1,remaining=0,reset=18446744073709551615"
            .parse()
            .unwrap(),
    );
    assert_eq!(retry_after(&h), Some(MAX_SERVER_WAIT));
}

#[tokio::test]
async fn names_resolving_to_link_local_addresses_are_refused_at_connect_time() {
    use reqwest::dns::Resolve;
    let guarded = GuardedResolver {
        allow_link_local: false,
    };
    // The system resolver answers an address literal with itself: the same path a name
    // pointed at 169.254.169.254 takes.
    let refused = guarded
        .resolve("169.254.169.254".parse().unwrap())
        .await
        .err()
        .expect("refused");
    let refused = refusal(refused.as_ref()).expect("a policy refusal");
    assert!(refused.contains("link-local"), "{refused}");
    let fine: Vec<_> = guarded
        .resolve("127.0.0.1".parse().unwrap())
        .await
        .unwrap()
        .collect();
    assert_eq!(fine.len(), 1);
    let open = GuardedResolver {
        allow_link_local: true,
    };
    assert!(
        open.resolve("169.254.169.254".parse().unwrap())
            .await
            .is_ok()
    );
}

#[test]
fn foreign_answers_are_described_not_quoted() {
    let said = unquoted(b"ami-id\nsecret-role-credentials");
    assert!(!said.contains("ami") && said.contains("30 bytes"), "{said}");
    assert_eq!(unquoted(b""), "");
}
