//! Shared by the tests that need the local control plane (`tests/e2e/`, `tests/chart.rs`): one
//! namespace, one Data Plane simulator and one operator process per test ([`harness`]), kubectl
//! and helm ([`tools`]), scraping ([`scrape`]), reading what the operator wrote ([`reading`]) and
//! TLS fronts ([`tls`]), Git repositories for the GitOps tests ([`git`]).
#![allow(dead_code)]

mod git;
mod harness;
mod kafka_connect;
mod reading;
mod scrape;
mod tls;
mod tools;

// Each test target uses a part of these.
#[allow(unused_imports)]
pub use {git::*, harness::*, kafka_connect::*, reading::*, scrape::*, tls::*, tools::*};

use std::time::Duration;

pub const POLL: Duration = Duration::from_secs(5);
/// A transition must show within one poll interval; this margin covers the API round trips.
pub const MARGIN: Duration = Duration::from_secs(3);
