//! Acting on connectors: restarts (automatic and on request), the declared configuration and
//! state, and deletion. Pure decisions in [`restart`], [`declared`] and [`plan`]; the commands go
//! out through the same [`crate::source::StatusSource`] (and so the same request gate and rate
//! limit) as every read, from [`execute`].

pub mod command;
pub mod declared;
pub mod execute;
pub mod finalizer;
pub mod plan;
pub mod restart;
