//! Pre-flight check (I/O) of a declared configuration: reads the cluster's plugin list (through
//! [`crate::plugin_cache`]) for `status.plugin`, and before a put asks the plugin to validate the
//! configuration where the source can ([`crate::source::StatusSource::validate`]). What to make
//! of the answers is [`crate::manage::preflight`] (pure).

use super::declared::Declared;
use super::preflight::{self, CLASS_KEY, VERSION_KEY};
use crate::crd::{InvalidField, PluginStatus};
use crate::probe::{Failure, config_refusal};
use crate::prober::Prober;
use crate::resolve::Target;

/// What the check found.
#[derive(Debug, Default)]
pub struct Checked {
    /// `status.plugin` now; `None` when the plugin list could not be read (the status keeps
    /// what it had) or nothing names a plugin.
    pub plugin: Option<PluginStatus>,
    /// Why the put must not be sent, with the fields the plugin refused.
    pub refusal: Option<(Failure, Vec<InvalidField>)>,
}

/// Checks the declaration `declared` of `connector`; validates it only when it is to be put
/// (`putting`). A plugin list that cannot be read does not stop a put: the source's own answer
/// to it says what is wrong.
pub async fn check(
    prober: &Prober,
    target: &Target,
    declared: &Declared,
    connector: &str,
    putting: bool,
) -> Checked {
    let mut checked = Checked::default();
    let source = prober.source(target.source.kind());
    if let Some(class) = declared.plain(CLASS_KEY) {
        let version = declared.plain(VERSION_KEY);
        let listed = prober
            .plugins
            .get(source, target, |plugins| {
                preflight::lookup(plugins, class, version).found
            })
            .await;
        match listed {
            Ok(plugins) => {
                let status = preflight::lookup(&plugins, class, version);
                if !status.found && putting {
                    checked.refusal =
                        Some((preflight::not_found(class, version, &plugins), Vec::new()));
                }
                checked.plugin = Some(status);
            }
            Err(f) => {
                tracing::debug!(connector, reason = f.kind.reason(), message = %declared.redact(&f.message), "plugin list not read; putting without the plugin check");
            }
        }
    }
    if !putting || checked.refusal.is_some() {
        return checked;
    }
    let mut body = declared.body();
    body.0
        .entry("name")
        .or_insert_with(|| serde_json::Value::String(connector.to_string()));
    checked.refusal = match source.validate(target, &body).await {
        Ok(None) => None,
        Ok(Some(found)) if found.is_empty() => None,
        Ok(Some(found)) => {
            let fields = preflight::invalid_fields(&found, &declared.redactor());
            Some((preflight::invalid(&fields, found.len()), fields))
        }
        Err(f) => Some((config_refusal(f), Vec::new())),
    };
    checked
}
