//! The one interface every source implements: one connector's status, one page of every
//! connector of a cluster, the connector's configuration, topics and offsets, the cluster's
//! plugins and their validation of a configuration, and the commands that change it. The
//! Data Plane and Kafka Connect clients implement it; a third source adds a file implementing it
//! and a [`crate::resolve::Source`] variant, nothing else.

use crate::manage::declared::{Actual, ConfigBody};
use crate::probe::{Answer, Failure, FailureKind, ListFailure, Report};
use crate::resolve::Target;
use futures::future::BoxFuture;

/// Which connectors a listing keeps (the others are dropped as they are read).
pub type Wanted<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// One page of a cluster's connectors, the kept ones, not yet assessed.
#[derive(Debug, Default)]
pub struct Page {
    /// (connector name, what the source reported).
    pub reports: Vec<(String, Report)>,
    /// Kept connectors the page names without a status (created a moment ago, or a worker
    /// rebalancing): they exist, their state is not known from the page.
    pub unstated: Vec<String>,
    /// Token of the next page; `None` on the last.
    pub next: Option<String>,
}

/// A status source.
pub trait StatusSource: Send + Sync {
    /// The status of the target's connector.
    fn one<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Answer>;

    /// One page (`token`: from the previous page, `None` for the first; `page_size` where the
    /// source pages) of every connector of the target's cluster, keeping those `wanted` accepts.
    fn page<'a>(
        &'a self,
        target: &'a Target,
        page_size: u32,
        token: Option<&'a str>,
        wanted: Wanted<'a>,
    ) -> BoxFuture<'a, Result<Page, ListFailure>>;

    /// The connector's configuration; `Ok(None)` when the connector does not exist.
    fn config<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Option<Actual>, Failure>>;

    /// The connector plugins of the target's Connect cluster (at most
    /// [`crate::manage::preflight::MAX_PLUGINS`]).
    fn plugins<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Vec<Plugin>, Failure>>;

    /// The topics the target's connector uses, as the source tracks them.
    fn topics<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Vec<String>, Failure>>;

    /// The connector's offsets (Kafka Connect; the Data Plane has no offsets API and says so).
    fn offsets<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Offsets, Failure>>;

    /// The plugin's own validation of `config` (which names the plugin): the fields it finds
    /// wrong, none when valid; `Ok(None)` where the source has no validation.
    fn validate<'a>(
        &'a self,
        target: &'a Target,
        config: &'a ConfigBody,
    ) -> BoxFuture<'a, Result<Option<Vec<FieldErrors>>, Failure>>;

    /// Sends one command about the target's connector. A `Delete` of a connector that does not
    /// exist succeeds.
    fn command<'a>(
        &'a self,
        target: &'a Target,
        command: &'a Command,
    ) -> BoxFuture<'a, Result<(), Failure>>;
}

pub use crate::manage::command::Command;
pub use crate::manage::offsets::Offsets;
pub use crate::manage::preflight::{FieldErrors, Plugin};

/// The failure for a target handed to a source of another kind (a bug, never a crash).
pub fn wrong_source(source: &str) -> Failure {
    Failure::new(
        FailureKind::InvalidArgument,
        format!("internal error: the target is not for the {source} source"),
    )
}
