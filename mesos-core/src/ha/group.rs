//! The group of contending masters under a ZooKeeper path: connecting, naming the leader,
//! reading its address.

use std::time::Duration;

use serde_json::Value;
use zookeeper_client as zk;

use super::{HaError, ZkUrl};

/// The name prefix of a contender's node; ZooKeeper appends a ten-digit sequence.
pub const LEADER_PREFIX: &str = "json.info_";

/// How long one attempt to reach a ZooKeeper server may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// The [`HaError`] of a failed operation against `url`.
pub(super) fn zk_error(url: &ZkUrl, what: &str, error: impl std::fmt::Display) -> HaError {
    HaError::ZooKeeper {
        servers: url.servers.clone(),
        reason: format!("{what}: {error}"),
    }
}

/// A session with the servers of `url`, authenticated when the URL has credentials.
pub(crate) async fn connect(url: &ZkUrl, session_timeout: Duration) -> Result<zk::Client, HaError> {
    let mut connector = zk::Client::connector()
        .with_session_timeout(session_timeout)
        .with_connection_timeout(CONNECTION_TIMEOUT);
    if let Some(credentials) = &url.credentials {
        connector = connector.with_auth("digest", credentials.as_bytes());
    }
    connector
        .connect(&url.servers)
        .await
        .map_err(|e| zk_error(url, "cannot connect", e))
}

/// The sequence of a contender's node name, or `None` for other nodes (Apache's
/// `log_replicas`, say).
pub(super) fn sequence(name: &str) -> Option<u64> {
    name.strip_prefix(LEADER_PREFIX)?.parse().ok()
}

/// The leader's node among `children`: the contender with the lowest sequence.
pub(super) fn leader(children: &[String]) -> Option<&str> {
    children
        .iter()
        .filter_map(|name| Some((sequence(name)?, name.as_str())))
        .min()
        .map(|(_, name)| name)
}

/// The `host:port` clients reach a master at, from the MasterInfo JSON of its node: the
/// `address` (ip, else hostname) when there is one, else `hostname` and `port`.
pub fn leader_address(info: &[u8]) -> Result<String, HaError> {
    let bad = |reason: &str| HaError::BadMasterInfo(reason.to_string());
    let info: Value = serde_json::from_slice(info).map_err(|e| bad(&e.to_string()))?;
    let address = &info["address"];
    let host = address["ip"]
        .as_str()
        .or_else(|| address["hostname"].as_str())
        .or_else(|| info["hostname"].as_str())
        .filter(|host| !host.is_empty())
        .ok_or_else(|| bad("it has no address, ip or hostname"))?;
    let port = address["port"]
        .as_u64()
        .or_else(|| info["port"].as_u64())
        .filter(|port| (1..=u64::from(u16::MAX)).contains(port))
        .ok_or_else(|| bad("it has no valid port"))?;
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_contender_leads_and_other_nodes_are_ignored() {
        let children: Vec<String> = [
            "log_replicas",
            "json.info_0000000012",
            "json.info_0000000003",
            "info_0000000001",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(leader(&children), Some("json.info_0000000003"));
        assert_eq!(leader(&children[..1]), None);
    }

    #[test]
    fn the_address_is_read_as_apache_mesos_writes_it() {
        // What an Apache Mesos 1.x master wrote under its json.info_ node.
        let apache = br#"{"address":{"hostname":"localhost","ip":"127.0.0.1","port":16052},
            "hostname":"localhost","id":"5faa","ip":16777343,"pid":"master@127.0.0.1:16052",
            "port":16052,"version":"1.12.0"}"#;
        assert_eq!(leader_address(apache).unwrap(), "127.0.0.1:16052");
        let old = br#"{"hostname":"m1","port":5050,"id":"x","ip":1}"#;
        assert_eq!(leader_address(old).unwrap(), "m1:5050");
        for bad in [
            &b"not json"[..],
            br#"{"port":5050}"#,
            br#"{"hostname":"m","port":0}"#,
        ] {
            assert!(leader_address(bad).is_err());
        }
    }
}
