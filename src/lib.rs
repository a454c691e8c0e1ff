//! managed-connector-operator: Kafka Connect connector health in Kubernetes.
//!
//! For every `ManagedConnector` the operator reads the connector's status from the Redpanda Cloud
//! Data Plane API and writes its holistic state, tasks, parsed errors and conditions into the
//! resource's status. The pure core ([`health`], [`status`]) decides; the shell ([`dataplane`],
//! [`controller`], [`server`]) talks to the world.

pub mod absence;
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
pub mod dataplane;
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
