//! What resources refer to (pure): the objects a spec names ([`Reference`]), what looking each
//! up found ([`Lookup`]), and the failure a missing or unreadable one becomes. The reading is
//! [`crate::ref_cache`]'s.

use crate::probe::{Failure, FailureKind};
use std::collections::BTreeMap;

/// An object a spec refers to: (kind, namespace, name).
pub type Reference = (RefKind, String, String);

/// What was read for each [`Reference`].
pub type Lookups = BTreeMap<Reference, Lookup>;

/// Data of a Secret (decoded) or a ConfigMap, by key.
pub type Data = BTreeMap<String, Vec<u8>>;

/// What looking up a Secret or ConfigMap found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// It exists; its data.
    Found(Data),
    /// It does not exist.
    Missing,
    /// The operator may not read it (RBAC).
    Forbidden,
}

/// Which kind of object a [`Lookup`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
    /// A Namespace (cluster-scoped: the namespace part is empty); its data are its labels.
    Namespace,
}

impl RefKind {
    pub fn word(self) -> &'static str {
        match self {
            RefKind::Secret => "Secret",
            RefKind::ConfigMap => "ConfigMap",
            RefKind::Namespace => "Namespace",
        }
    }
}

/// A failure for a reference that is missing or unreadable.
pub fn unreadable(
    kind: RefKind,
    namespace: &str,
    name: &str,
    found: &Lookup,
    what: FailureKind,
) -> Failure {
    let word = kind.word();
    if kind == RefKind::Namespace {
        return match found {
            Lookup::Forbidden => Failure::new(
                what,
                format!(
                    "the operator may not read Namespace {name} (forbidden): grant it get on namespaces"
                ),
            ),
            _ => Failure::new(what, format!("Namespace {name} does not exist")),
        };
    }
    match found {
        Lookup::Forbidden => Failure::new(
            what,
            format!(
                "the operator may not read {word} {namespace}/{name} (forbidden): grant it get on {word}s in {namespace}"
            ),
        ),
        _ => Failure::new(what, format!("{word} {namespace}/{name} does not exist")),
    }
}
