//! End-to-end tests: the real operator binary, a real kube-apiserver + etcd (`hack/testenv`), the
//! Data Plane simulator, `kubectl`. Marked `#[ignore]`; `hack/test` runs them with the control
//! plane up (`cargo test --test e2e -- --ignored`). One file per feature; each test has its own
//! namespace, simulator and operator process (`--namespace`), so they run in parallel.

#[path = "../common/mod.rs"]
mod common;

use common::*;
use dataplane_sim::scenario::Faults;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use managed_connector_operator::crd::HolisticState;
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

mod act;
mod batch;
mod cli;
mod events;
mod faults;
mod leader;
mod status;
