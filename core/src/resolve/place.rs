//! Where a resource's connector lives, as its spec (and the ConnectCluster it names) say, before
//! anything is read or checked (pure). The one answer to "which source, which URL, which
//! cluster" that the claim of a connector, the status's `source` and the resolution share.

use crate::connect_cluster::ConnectCluster;
use crate::crd::{ManagedConnector, SourceKind};

/// The source, its URL as written (`None`: the operator's `--dataplane-url`) and the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub kind: SourceKind,
    pub url: Option<&'a str>,
    /// The Data Plane's cluster name (empty for Kafka Connect).
    pub cluster_name: &'a str,
}

/// `None` when the resource names a ConnectCluster that is not there, or one with no source.
pub fn place<'a>(
    mc: &'a ManagedConnector,
    cluster: Option<&'a ConnectCluster>,
) -> Option<Place<'a>> {
    let kafka_connect = |url: &'a str| Place {
        kind: SourceKind::KafkaConnect,
        url: Some(url),
        cluster_name: "",
    };
    if mc.spec.connect_cluster_ref.is_some() {
        let spec = &cluster?.spec;
        return match (&spec.dataplane, &spec.kafka_connect) {
            (Some(d), _) => Some(Place {
                kind: SourceKind::DataPlane,
                url: d.url.as_deref(),
                cluster_name: &d.cluster_name,
            }),
            (None, Some(k)) => Some(kafka_connect(&k.url)),
            (None, None) => None,
        };
    }
    Some(match &mc.spec.kafka_connect {
        Some(k) => kafka_connect(&k.url),
        None => Place {
            kind: SourceKind::DataPlane,
            url: mc.spec.dataplane.as_ref().and_then(|d| d.url.as_deref()),
            cluster_name: &mc.spec.cluster_name,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ManagedConnectorSpec;
    use serde_json::json;

    fn mc(spec: serde_json::Value) -> ManagedConnector {
        let spec: ManagedConnectorSpec = serde_json::from_value(spec).expect("spec");
        ManagedConnector::new("orders", spec)
    }

    fn cluster(spec: serde_json::Value) -> ConnectCluster {
        ConnectCluster::new("shared", serde_json::from_value(spec).expect("spec"))
    }

    #[test]
    fn the_spec_or_its_connect_cluster_says_where_the_connector_is() {
        use SourceKind::*;
        let connect = cluster(json!({"kafkaConnect": {"url": "http://connect:8083"}}));
        let dataplane = cluster(json!({"dataplane": {"url": "https://dp", "clusterName": "c1"}}));
        let named = mc(json!({"connectClusterRef": {"name": "shared"}}));
        let cases = [
            (mc(json!({})), None, Some((DataPlane, None, "redpanda"))),
            (
                mc(json!({"dataplane": {"url": "https://x"}, "clusterName": "east"})),
                None,
                Some((DataPlane, Some("https://x"), "east")),
            ),
            (
                mc(json!({"kafkaConnect": {"url": "http://k:8083"}})),
                None,
                Some((KafkaConnect, Some("http://k:8083"), "")),
            ),
            (
                named.clone(),
                Some(&connect),
                Some((KafkaConnect, Some("http://connect:8083"), "")),
            ),
            (
                named.clone(),
                Some(&dataplane),
                Some((DataPlane, Some("https://dp"), "c1")),
            ),
            // Named but not there: nowhere (the resolution says ConnectClusterNotFound).
            (named, None, None),
        ];
        for (resource, cluster, want) in cases {
            let got = place(&resource, cluster).map(|p| (p.kind, p.url, p.cluster_name));
            assert_eq!(got, want, "{:?}", resource.spec);
        }
    }
}
