//! managed-connector-operator: Kafka Connect connector health in Kubernetes.
//!
//! For every `ManagedConnector` the operator reads the connector's status from Redpanda Cloud's
//! Data Plane API or a self-hosted Kafka Connect REST API, writes its holistic state, tasks,
//! parsed errors and conditions into the resource's status, and on request acts on it
//! (restarts, declared configuration and state, deletion).
//!
//! Layers, each importing only those below it (`tests/layers.rs` checks every `crate::` path):
//!
//! - **core** (pure, no I/O): the `managed-connector-core` crate under `core/`, re-exported here
//!   module by module ([`crd`], [`connect_cluster`], [`schema`], [`credentials`], [`config`],
//!   [`health`], [`probe`], [`absence`], [`redact`], [`policy`], [`refs`], [`resolve`],
//!   [`claim`], [`schedule`], [`status`], [`trim`], and the planners of [`manage`]). It has no
//!   Kubernetes client, HTTP client, async runtime or metrics among its dependencies, so a core
//!   module that reaches for I/O does not compile; `status` does not import the planners.
//! - **metrics** ([`metrics`]): imports only the core.
//! - **sources**: the request gate [`http`], the one interface [`source`], and the clients
//!   [`dataplane`] and [`connect`]; they import the core, metrics, the gate and the interface,
//!   never each other.
//! - **shell**: [`controller`] (the watch and the compact cache) runs [`reconcile`], the pipeline
//!   of one resource: [`observe`] → [`act`] (or [`deletion`]) → status → [`apply`]; with
//!   [`prober`], [`plugin_cache`], [`batch`], [`context`], [`platform`], `manage::execute`, [`ref_cache`],
//!   [`leader`], [`server`], [`telemetry`]; on top [`cli`] (wires everything) and [`report`] (the
//!   status command).

pub use managed_connector_core::{
    absence, claim, config, connect_cluster, crd, credentials, health, policy, probe, redact, refs,
    resolve, schedule, schema, status, trim,
};

pub mod act;
pub mod allocator;
pub mod apply;
pub mod batch;
pub mod cli;
pub mod connect;
pub mod context;
pub mod controller;
pub mod dataplane;
pub mod deletion;
pub mod heap;
pub mod http;
pub mod leader;
pub mod manage;
pub mod metrics;
pub mod observe;
pub mod platform;
pub mod plugin_cache;
pub mod prober;
pub mod reconcile;
pub mod recorder;
pub mod ref_cache;
pub mod report;
pub mod server;
pub mod source;
pub mod telemetry;
pub mod visit;
