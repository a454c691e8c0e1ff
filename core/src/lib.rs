//! The pure core of managed-connector-operator: what a `ManagedConnector` and a
//! `ConnectCluster` are, how a connector's status is judged, how a spec resolves to a source,
//! what the status and conditions say, and what to do about it.
//!
//! Rules (kept by the crate's dependencies and by `tests/layers.rs` in the operator):
//!
//! - No I/O: no Kubernetes client or runtime (kube only for the derive and kube-core's types), no
//!   HTTP client, no async runtime, no metrics. Every function takes what it needs as values and
//!   returns a value; the operator's shell reads, writes and sends.
//! - [`status`] does not import the planners of [`manage`]: what the status says is decided
//!   first, the actions read it.
//!
//! The modules, from the bottom up:
//!
//! - resource types: [`crd`] (ManagedConnector), [`connect_cluster`] (ConnectCluster),
//!   [`schema`] (the CRDs as YAML), [`trim`] (the compact copy the watch keeps);
//! - judging a connector: [`health`] (holistic state, parsed errors), [`probe`] (what a source
//!   answered), [`absence`] (a connector that went missing), [`redact`] (no secret in a text);
//! - settings and inputs: [`config`] (operator settings), [`credentials`], [`policy`] (which URLs
//!   a tenant may name), [`refs`] (Secret and ConfigMap references), [`resolve`] (a spec to a
//!   source target), [`claim`] (which resource acts on a connector), [`schedule`] (when next);
//! - writing it down: [`status`] (status and conditions per outcome);
//! - acting: [`manage`] (restart, declared config and state, deletion planners);
//! - moving in: [`strimzi`] (Strimzi KafkaConnectors to ManagedConnectors), [`import`] (live
//!   connectors to ManagedConnectors).

pub mod absence;
pub mod claim;
pub mod config;
pub mod connect_cluster;
pub mod crd;
pub mod credentials;
pub mod health;
pub mod import;
pub mod manage;
pub mod policy;
pub mod probe;
pub mod redact;
pub mod refs;
pub mod resolve;
pub mod schedule;
pub mod schema;
pub mod status;
pub mod strimzi;
pub mod trim;
