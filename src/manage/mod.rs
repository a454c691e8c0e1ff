//! Acting on connectors: restarts (automatic and on request), the declared configuration and
//! state, offsets and topics on request ([`offsets_request`]), and deletion. The pure decisions ([`restart`], [`declared`], [`plan`], [`finalizer`])
//! live in the core crate; the commands go out through the same
//! [`crate::source::StatusSource`] (and so the same request gate and rate limit) as every read,
//! from [`execute`], after [`check`] found the plugin and its validation content.

pub use managed_connector_core::manage::{
    command, declared, finalizer, offsets, plan, preflight, restart,
};

pub mod check;
pub mod execute;
pub mod offsets_request;
