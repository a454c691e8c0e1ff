//! The commands the operator can send about a connector (pure data): what the planner decides
//! and every source carries out.

use super::declared::ConfigBody;

/// What the operator can ask a source to do to a connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Create the connector, or replace its configuration.
    PutConfig(ConfigBody),
    /// Pause it.
    Pause,
    /// Resume it (from paused or stopped).
    Resume,
    /// Stop it.
    Stop,
    /// Restart the connector instance and its tasks: only the failed ones, or all of them.
    Restart {
        /// Restart only `FAILED` instances.
        only_failed: bool,
    },
    /// Restart one task (Kafka Connect; the Data Plane has no such call and restarts the failed
    /// instances instead).
    RestartTask(u32),
    /// Set the offsets of the listed partitions (Kafka Connect, connector stopped): the body
    /// checked by [`super::offsets::parse`].
    AlterOffsets(serde_json::Value),
    /// Forget every offset (Kafka Connect, connector stopped).
    ResetOffsets,
    /// Empty the connector's set of active topics.
    ResetTopics,
    /// Delete the connector.
    Delete,
}

impl Command {
    /// Label for metrics, and the verb of messages.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::PutConfig(_) => "put_config",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Stop => "stop",
            Command::Restart { .. } => "restart",
            Command::RestartTask(_) => "restart_task",
            Command::AlterOffsets(_) => "alter_offsets",
            Command::ResetOffsets => "reset_offsets",
            Command::ResetTopics => "reset_topics",
            Command::Delete => "delete",
        }
    }
}
