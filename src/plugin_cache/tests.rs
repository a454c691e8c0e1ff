//! The cache against a counting fake source (a unit test; the real sources are in the e2e tests).

use super::*;
use crate::manage::declared::{Actual, ConfigBody};
use crate::probe::{Answer, FailureKind, ListFailure};
use crate::resolve::{Grant, Source};
use crate::source::{Command, FieldErrors, Page, Wanted};
use futures::FutureExt;
use futures::future::BoxFuture;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
struct Fake {
    reads: AtomicUsize,
    plugins: Mutex<Vec<Plugin>>,
    failing: std::sync::atomic::AtomicBool,
}

impl StatusSource for Fake {
    fn one<'a>(&'a self, _: &'a Target) -> BoxFuture<'a, Answer> {
        unimplemented!("not asked")
    }
    fn page<'a>(
        &'a self,
        _: &'a Target,
        _: u32,
        _: Option<&'a str>,
        _: Wanted<'a>,
    ) -> BoxFuture<'a, Result<Page, ListFailure>> {
        unimplemented!("not asked")
    }
    fn config<'a>(&'a self, _: &'a Target) -> BoxFuture<'a, Result<Option<Actual>, Failure>> {
        unimplemented!("not asked")
    }
    fn plugins<'a>(&'a self, _: &'a Target) -> BoxFuture<'a, Result<Vec<Plugin>, Failure>> {
        async move {
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            if self.failing.load(Ordering::SeqCst) {
                return Err(Failure::new(FailureKind::ConnectUnavailable, "down"));
            }
            Ok(self.plugins.lock().unwrap().clone())
        }
        .boxed()
    }
    fn topics<'a>(&'a self, _: &'a Target) -> BoxFuture<'a, Result<Vec<String>, Failure>> {
        unimplemented!("not asked")
    }
    fn offsets<'a>(
        &'a self,
        _: &'a Target,
    ) -> BoxFuture<'a, Result<crate::source::Offsets, Failure>> {
        unimplemented!("not asked")
    }
    fn validate<'a>(
        &'a self,
        _: &'a Target,
        _: &'a ConfigBody,
    ) -> BoxFuture<'a, Result<Option<Vec<FieldErrors>>, Failure>> {
        unimplemented!("not asked")
    }
    fn command<'a>(&'a self, _: &'a Target, _: &'a Command) -> BoxFuture<'a, Result<(), Failure>> {
        unimplemented!("not asked")
    }
}

fn target(url: &str, password: &str) -> Target {
    Target {
        connector: "c".into(),
        cluster: String::new(),
        source: Source::KafkaConnect {
            url: url.parse().unwrap(),
            auth: crate::credentials::ConnectAuth::Basic {
                username: "u".into(),
                password: password.to_string().into(),
            },
            ca: None,
        },
        credentials_ref: None,
        grant: Grant::ByCredentials,
    }
}

fn has(class: &'static str) -> impl Fn(&[Plugin]) -> bool {
    move |ps: &[Plugin]| ps.iter().any(|p| p.class == class)
}

#[tokio::test(start_paused = true)]
async fn one_read_serves_a_cluster_until_it_is_old_or_lacks_what_is_declared() {
    let fake = Fake::default();
    fake.plugins.lock().unwrap().push(Plugin {
        class: "a.B".into(),
        ..Default::default()
    });
    let cache = PluginCache::default();
    let t = target("http://connect:8083", "pw-one");
    // Many resources of one cluster at once: one read.
    let all = futures::future::join_all((0..20).map(|_| cache.get(&fake, &t, has("a.B")))).await;
    assert!(all.iter().all(|r| r.as_ref().is_ok_and(|p| p.len() == 1)));
    assert_eq!(fake.reads.load(Ordering::SeqCst), 1);

    // Another password on the same URL is another tenant's access: its own read.
    cache
        .get(&fake, &target("http://connect:8083", "pw-two"), has("a.B"))
        .await
        .unwrap();
    assert_eq!(fake.reads.load(Ordering::SeqCst), 2);

    // A declared plugin missing from a list older than a minute reads it again, once.
    tokio::time::advance(MISSING_REFRESH + Duration::from_secs(1)).await;
    cache.get(&fake, &t, has("a.B")).await.unwrap();
    assert_eq!(fake.reads.load(Ordering::SeqCst), 2, "has it: no read");
    fake.plugins.lock().unwrap().push(Plugin {
        class: "c.D".into(),
        ..Default::default()
    });
    let got = cache.get(&fake, &t, has("c.D")).await.unwrap();
    assert_eq!(got.len(), 2, "installed since: found");
    assert_eq!(fake.reads.load(Ordering::SeqCst), 3);
    cache.get(&fake, &t, has("x.Missing")).await.unwrap();
    assert_eq!(
        fake.reads.load(Ordering::SeqCst),
        3,
        "a fresh list is not read again"
    );

    // Old: read again; a failure is not repeated for a while.
    tokio::time::advance(REFRESH).await;
    fake.failing.store(true, Ordering::SeqCst);
    assert!(cache.get(&fake, &t, has("a.B")).await.is_err());
    assert!(cache.get(&fake, &t, has("a.B")).await.is_err());
    assert_eq!(fake.reads.load(Ordering::SeqCst), 4);
    tokio::time::advance(RETRY_AFTER_FAILURE).await;
    fake.failing.store(false, Ordering::SeqCst);
    assert!(cache.get(&fake, &t, has("a.B")).await.is_ok());
    assert_eq!(fake.reads.load(Ordering::SeqCst), 5);
}

#[tokio::test(start_paused = true)]
async fn the_number_of_clusters_remembered_is_bounded() {
    let fake = Fake::default();
    let cache = PluginCache::default();
    for i in 0..MAX_CLUSTERS + 10 {
        let t = target(&format!("http://connect-{i}:8083"), "pw");
        cache.get(&fake, &t, has("a.B")).await.unwrap();
    }
    assert_eq!(cache.len(), MAX_CLUSTERS);
}
