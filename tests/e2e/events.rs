//! The operator's Event recorder against the real API server: a repeat grows the series of the
//! first Event (type, action, reason and object the same), another reason is another Event, and
//! a repeat of an Event the API server no longer has is created anew.

use super::*;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::Resource;
use kube::runtime::events::{Event, EventType, Reporter};
use managed_connector_operator::recorder::EventRecorder;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs hack/testenv"]
async fn repeats_grow_one_series_and_a_gone_event_is_said_anew() {
    let env = Env::new("events", &[]).await;
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.ns);
    let subject = maps
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "subject"}})).unwrap(),
        )
        .await
        .unwrap();
    let reporter = Reporter {
        controller: "test-recorder".into(),
        instance: None,
    };
    let recorder = EventRecorder::new(env.client.clone(), reporter);
    let regarding = subject.object_ref(&());
    let say = async |reason: &str, note: &str| {
        let event = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some(note.into()),
            action: "Reconcile".into(),
            secondary: None,
        };
        recorder.publish(&event, &regarding).await.unwrap();
    };
    for note in ["first", "second", "third"] {
        say("ActionFailed", note).await;
    }
    say("Other", "x").await;
    let events: Api<K8sEvent> = Api::namespaced(env.client.clone(), &env.ns);
    let listed = || async {
        let mut items = events.list(&Default::default()).await.unwrap().items;
        items.retain(|e| e.reporting_controller.as_deref() == Some("test-recorder"));
        items.sort_by_key(|e| e.reason.clone());
        items
    };
    let items = listed().await;
    let summary: Vec<_> = items
        .iter()
        .map(|e| {
            (
                e.reason.clone().unwrap_or_default(),
                e.note.clone().unwrap_or_default(),
                e.series.as_ref().map(|s| s.count),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("ActionFailed".into(), "first".into(), Some(3)),
            ("Other".into(), "x".into(), None),
        ],
        "one series of three, the first note kept; another reason on its own"
    );
    assert_eq!(
        items[0].regarding.as_ref().and_then(|r| r.uid.clone()),
        subject.metadata.uid
    );

    // The API server dropped it (its TTL, or someone deleted it): the repeat is a new Event.
    let name = items[0].metadata.name.clone().unwrap();
    events
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    say("ActionFailed", "fourth").await;
    let again: Vec<_> = listed()
        .await
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ActionFailed"))
        .map(|e| (e.note.unwrap_or_default(), e.series.map(|s| s.count)))
        .collect();
    assert_eq!(again, vec![("fourth".to_string(), None)]);
}
