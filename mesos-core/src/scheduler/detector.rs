//! Finding the leading master.
//!
//! Every client of the master (the scheduler client, the agent, `mesos-execute`) is given a
//! master the way Mesos takes `--master`: `host:port`, a comma-separated list of them (any
//! of which may lead; a non-leading master redirects to the leader), or `zk://...` to read
//! the leader from ZooKeeper. A [`MasterDetector`] turns that into the address to try next.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::ha::{ZkDetector, ZkUrl};

/// Why no master address could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectorError {
    /// The master specification is not one this detector reads.
    #[error("invalid master '{master}': {reason}")]
    Invalid {
        /// The specification as given.
        master: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A future a detector returns: the next master's `host:port`.
pub type Detection<'a> = Pin<Box<dyn Future<Output = Result<String, DetectorError>> + Send + 'a>>;

/// A future a detector returns that resolves once a new leader is detected.
pub type LeaderChange<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Finds the master to talk to. Clients ask again after every failed attempt, passing the
/// address that failed, so a detector can move on to another candidate or wait for a new
/// leader.
pub trait MasterDetector: Send + Sync + std::fmt::Debug {
    /// The `host:port` of the master to try next; `failed` is the one that just failed.
    fn detect<'a>(&'a self, failed: Option<&'a str>) -> Detection<'a>;

    /// Resolves once this detector names a leader other than `failed`, so that a client
    /// backing off from `failed` can go to the new leader at once, as Mesos' agents and
    /// drivers do on a new detection. Never resolves without a `failed` master, nor for
    /// detectors over fixed addresses, which elect nobody.
    fn leader_changed<'a>(&'a self, failed: Option<&'a str>) -> LeaderChange<'a> {
        let _ = failed;
        Box::pin(std::future::pending())
    }
}

/// A detector over fixed addresses: `host:port` or a list of them, tried in turn. Any of
/// them may be a non-leading master, which answers with a redirect to the leader.
#[derive(Debug)]
pub struct StandaloneDetector {
    endpoints: Vec<String>,
    next: AtomicUsize,
}

impl StandaloneDetector {
    /// A detector for `master`: `host:port`, `http://host:port`, or a comma-separated list.
    pub fn new(master: &str) -> Result<StandaloneDetector, DetectorError> {
        Ok(StandaloneDetector {
            endpoints: master_endpoints(master)?,
            next: AtomicUsize::new(0),
        })
    }

    /// The addresses this detector cycles through.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }
}

impl MasterDetector for StandaloneDetector {
    fn detect<'a>(&'a self, failed: Option<&'a str>) -> Detection<'a> {
        let index = match failed {
            Some(_) => self.next.fetch_add(1, Ordering::Relaxed) + 1,
            None => self.next.load(Ordering::Relaxed),
        };
        let endpoint = self.endpoints[index % self.endpoints.len()].clone();
        Box::pin(async move { Ok(endpoint) })
    }
}

/// The detector for a `--master` value: a [`ZkDetector`] for `zk://` (or `file://`)
/// URLs, with Mesos' default session timeout; a [`StandaloneDetector`] for addresses.
pub fn detector_for(master: &str) -> Result<Arc<dyn MasterDetector>, DetectorError> {
    master_detector(master, crate::ha::DEFAULT_SESSION_TIMEOUT)
}

/// [`detector_for`] with the ZooKeeper session timeout given (`--zk_session_timeout`).
pub fn master_detector(
    master: &str,
    zk_session_timeout: Duration,
) -> Result<Arc<dyn MasterDetector>, DetectorError> {
    if ZkUrl::is_zk(master) {
        let url = ZkUrl::parse(master).map_err(|e| DetectorError::Invalid {
            master: master.to_string(),
            reason: e.to_string(),
        })?;
        return Ok(Arc::new(ZkDetector::with_session_timeout(
            url,
            zk_session_timeout,
        )));
    }
    Ok(Arc::new(StandaloneDetector::new(master)?))
}

/// The `host:port` addresses a `--master` value names: one, or a comma-separated list, each
/// with or without `http://`. ZooKeeper URLs are refused with the reason: they name no
/// fixed address (see [`detector_for`]).
pub fn master_endpoints(master: &str) -> Result<Vec<String>, DetectorError> {
    let invalid = |reason: &str| DetectorError::Invalid {
        master: master.to_string(),
        reason: reason.to_string(),
    };
    if master.starts_with("zk://") || master.starts_with("file://") {
        return Err(invalid(
            "a ZooKeeper URL names no fixed address; find the leader with a ZkDetector",
        ));
    }
    let mut endpoints = Vec::new();
    for item in master.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let address = item.strip_prefix("http://").unwrap_or(item);
        let address = address.trim_end_matches('/');
        match address.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                endpoints.push(address.to_string())
            }
            _ => return Err(invalid(&format!("'{item}' is not host:port"))),
        }
    }
    if endpoints.is_empty() {
        return Err(invalid("it names no master"));
    }
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_prefixes_are_read() {
        assert_eq!(
            master_endpoints("http://a:5050, b:5051/").unwrap(),
            vec!["a:5050".to_string(), "b:5051".to_string()]
        );
    }

    #[test]
    fn bad_specifications_are_refused_with_the_reason() {
        for bad in ["", "a", "a:port", ":5050", "zk://z:2181/mesos"] {
            let error = master_endpoints(bad).unwrap_err().to_string();
            assert!(error.contains("invalid master"), "{bad}: {error}");
        }
    }

    #[tokio::test]
    async fn a_failed_master_moves_detection_to_the_next() {
        let detector = StandaloneDetector::new("a:1,b:2").unwrap();
        assert_eq!(detector.detect(None).await.unwrap(), "a:1");
        assert_eq!(detector.detect(None).await.unwrap(), "a:1");
        assert_eq!(detector.detect(Some("a:1")).await.unwrap(), "b:2");
        assert_eq!(detector.detect(Some("b:2")).await.unwrap(), "a:1");
    }
}
