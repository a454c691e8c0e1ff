//! Execute (I/O): sends a plan's commands through the target's source, in order, stopping at the
//! first failure; only the leader sends anything, and the operator-wide credentials act only
//! when the operator allows it.

use super::plan::Step;
use crate::config::OperatorConfig;
use crate::leader::Fence;
use crate::probe::{Failure, FailureKind};
use crate::prober::Prober;
use crate::resolve::{Grant, Source, Target};
use crate::source::Command;
use std::sync::Arc;

/// This replica is not the leader: nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotLeader;

/// Whether commands may go out with the target's credentials (pure). The operator-wide Data
/// Plane credentials serve every namespace; letting any tenant who can write a ManagedConnector
/// reconfigure, restart or delete connectors with them would turn read access into write access,
/// so they act only with `--operator-credentials-may-act`. A ConnectCluster decides for the
/// resources that name it (its `access` and `connectorNamePrefix`).
pub fn may_act(target: &Target, config: &OperatorConfig) -> Result<(), Failure> {
    match &target.grant {
        Grant::Allowed => return Ok(()),
        Grant::Refused(why) => {
            return Err(Failure::new(FailureKind::ActionNotAllowed, why.clone()));
        }
        Grant::ByCredentials => {}
    }
    let operator_wide = matches!(target.source, Source::DataPlane { .. })
        && target.credentials_ref.is_some()
        && target.credentials_ref == config.default_credentials_secret;
    if operator_wide && !config.operator_credentials_may_act {
        return Err(Failure::new(
            FailureKind::CredentialsRequired,
            "changing a connector (spec.config, spec.state, restarts, deletionPolicy: Delete) needs the resource's own credentials: set spec.dataplane.credentialsSecretRef (the operator-wide credentials only read status unless the operator runs with --operator-credentials-may-act)",
        ));
    }
    Ok(())
}

/// Which kind of trigger a step is, for the metric.
fn trigger(step: &Step) -> &'static str {
    match step.reason {
        "RestartedAutomatically" => "automatic",
        "RestartRequested" | "OffsetsRequested" | "TopicsResetRequested" => "requested",
        "ConnectorDeleted" => "deletion",
        _ => "declared",
    }
}

/// Sends `steps`; `Ok(Some((i, failure)))` when step `i` failed (the later ones were not sent).
pub async fn execute(
    prober: &Prober,
    fence: &Fence,
    target: &Target,
    steps: &[Step],
) -> Result<Option<(usize, Failure)>, NotLeader> {
    let source = prober.source(target.source.kind());
    for (i, step) in steps.iter().enumerate() {
        if !fence.may_write() {
            return Err(NotLeader);
        }
        let still_leader = fence.clone();
        let may_send: crate::http::SendCheck = Arc::new(move || still_leader.may_write());
        let result = crate::http::MAY_SEND
            .scope(may_send, source.command(target, &step.command))
            .await
            .map_err(|f| match step.command {
                Command::PutConfig(_) => crate::probe::config_refusal(f),
                _ => f,
            });
        if result.is_err() && !fence.may_write() {
            // Lost the leadership on the way (possibly while the request waited for a slot,
            // then not sent): the new leader decides.
            return Err(NotLeader);
        }
        let outcome = match &result {
            Ok(()) => "ok",
            Err(f) => f.kind.reason(),
        };
        prober
            .metrics
            .action(step.command.verb(), trigger(step), outcome);
        if let Err(f) = result {
            return Ok(Some((i, f)));
        }
    }
    Ok(None)
}
