//! Deciding how to act on connectors: restarts (automatic and on request), the declared
//! configuration and state, offsets and topics on request, and deletion. Pure decisions in [`restart`], [`declared`], [`plan`]
//! and [`finalizer`]; the operator's `manage::execute` sends the [`command`]s they produce.

pub mod command;
pub mod declared;
pub mod finalizer;
pub mod offsets;
pub mod plan;
pub mod preflight;
pub mod restart;
