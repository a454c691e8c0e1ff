//! Reading what the operator wrote: conditions, kubectl tables, simulator scenarios.

use dataplane_sim::scenario::ConnectorScenario;
use kube::ResourceExt;
use managed_connector_operator::crd::ManagedConnector;
use std::collections::BTreeMap;

pub fn condition(mc: &ManagedConnector, type_: &str) -> Option<(String, String, String)> {
    mc.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

pub fn cond(mc: &ManagedConnector, type_: &str) -> (String, String) {
    let c = condition(mc, type_)
        .unwrap_or_else(|| panic!("{} has no {type_} condition", mc.name_any()));
    (c.0, c.1)
}

/// Parses `kubectl get` table output by the header's column positions.
pub fn table(output: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = output.lines();
    let header = lines.next().expect("header");
    let mut starts = Vec::new();
    let mut prev_space = true;
    for (i, ch) in header.char_indices() {
        if ch != ' ' && prev_space {
            starts.push(i);
        }
        prev_space = ch == ' ';
    }
    let names: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            header[s..starts.get(k + 1).copied().unwrap_or(header.len())]
                .trim()
                .to_string()
        })
        .collect();
    lines
        .map(|line| {
            names
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let s = starts[k].min(line.len());
                    let e = if k + 1 == names.len() {
                        line.len()
                    } else {
                        starts[k + 1].min(line.len())
                    };
                    (name.clone(), line[s..e].trim().to_string())
                })
                .collect()
        })
        .collect()
}

pub fn connector(name: &str, state: &str, tasks: &[&str]) -> ConnectorScenario {
    ConnectorScenario::new(name, state, tasks)
}
