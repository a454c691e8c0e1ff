//! managed-connector-operator: Kafka Connect connector health in Kubernetes.
//!
//! For every `ManagedConnector` the operator reads the connector's status from Redpanda Cloud's
//! Data Plane API or a self-hosted Kafka Connect REST API, writes its holistic state, tasks,
//! parsed errors and conditions into the resource's status, and on request acts on it
//! (restarts, declared configuration and state, deletion).
//!
//! Layers, each importing only those below it (`tests/layers.rs` checks every `crate::` path):
//!
//! - **core** (pure, no I/O): [`crd`], [`connect_cluster`], [`schema`], [`credentials`],
//!   [`config`], [`health`], [`probe`], [`absence`], [`redact`], [`policy`], [`refs`],
//!   [`resolve`], [`claim`], [`schedule`], [`status`], [`trim`], and the planners of [`manage`]
//!   (`command`, `declared`, `plan`, `restart`, `finalizer`). `status` does not import the
//!   planners.
//! - **metrics** ([`metrics`]): imports only the core.
//! - **sources**: the request gate [`http`], the one interface [`source`], and the clients
//!   [`dataplane`] and [`connect`]; they import the core, metrics, the gate and the interface,
//!   never each other.
//! - **shell**: [`fetch`], [`batch`], [`apply`], [`context`], [`controller`], [`platform`],
//!   `manage::execute`, [`ref_cache`], [`leader`], [`server`], [`telemetry`]; on top [`cli`]
//!   (wires everything) and [`report`] (the status command).

pub mod absence;
pub mod act;
pub mod apply;
pub mod batch;
pub mod claim;
pub mod cli;
pub mod config;
pub mod connect;
pub mod connect_cluster;
pub mod context;
pub mod controller;
pub mod crd;
pub mod credentials;
pub mod dataplane;
pub mod deletion;
pub mod fetch;
pub mod health;
pub mod http;
pub mod leader;
pub mod manage;
pub mod metrics;
pub mod platform;
pub mod policy;
pub mod probe;
pub mod redact;
pub mod ref_cache;
pub mod refs;
pub mod report;
pub mod resolve;
pub mod schedule;
pub mod schema;
pub mod server;
pub mod source;
pub mod status;
pub mod telemetry;
pub mod trim;
