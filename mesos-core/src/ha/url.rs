//! ZooKeeper URLs as Mesos' `--zk` and `--master` take them.

use std::fmt;

use super::HaError;

/// A parsed `zk://[user:password@]host:port[,host:port...]/path`.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkUrl {
    /// The servers, `host:port` comma-separated, as ZooKeeper clients take them.
    pub servers: String,
    /// The znode under which masters contend, absolute, without a trailing slash.
    pub path: String,
    /// `user:password` for ZooKeeper's `digest` authentication scheme, if given.
    pub credentials: Option<String>,
}

impl fmt::Debug for ZkUrl {
    /// Shows the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZkUrl({self})")
    }
}

impl fmt::Display for ZkUrl {
    /// The URL without its credentials, safe to log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zk://{}{}", self.servers, self.path)
    }
}

impl ZkUrl {
    /// Reads `text`: a `zk://` URL, or `file:///path` naming a file whose content is one
    /// (as Mesos allows, to keep credentials off the command line).
    pub fn parse(text: &str) -> Result<ZkUrl, HaError> {
        let invalid = |reason: String| HaError::InvalidUrl {
            url: text.to_string(),
            reason,
        };
        if let Some(file) = text.strip_prefix("file://") {
            let content = std::fs::read_to_string(file)
                .map_err(|e| invalid(format!("cannot read {file}: {e}")))?;
            return ZkUrl::parse(content.trim());
        }
        let rest = text
            .strip_prefix("zk://")
            .ok_or_else(|| invalid("it does not start with zk://".into()))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => return Err(invalid("it names no path (zk://host:port/path)".into())),
        };
        let (credentials, servers) = match authority.rsplit_once('@') {
            Some((credentials, servers)) => {
                if !credentials.contains(':') {
                    return Err(invalid("credentials must be user:password".into()));
                }
                (Some(credentials.to_string()), servers)
            }
            None => (None, authority),
        };
        let mut hosts = Vec::new();
        for server in servers.split(',') {
            match server.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    hosts.push(server)
                }
                _ => return Err(invalid(format!("'{server}' is not host:port"))),
            }
        }
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Err(invalid("it names no path (zk://host:port/path)".into()));
        }
        if path.split('/').skip(1).any(|part| part.is_empty()) {
            return Err(invalid(format!("'{path}' is not a ZooKeeper path")));
        }
        Ok(ZkUrl {
            servers: hosts.join(","),
            path: path.to_string(),
            credentials,
        })
    }

    /// Whether `text` is meant as a ZooKeeper URL (`zk://` or `file://`).
    pub fn is_zk(text: &str) -> bool {
        text.starts_with("zk://") || text.starts_with("file://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_lists_credentials_and_paths_are_read() {
        let url = ZkUrl::parse("zk://u:p@a:2181,b:2182/mesos/prod/").unwrap();
        assert_eq!(url.servers, "a:2181,b:2182");
        assert_eq!(url.path, "/mesos/prod");
        assert_eq!(url.credentials.as_deref(), Some("u:p"));
        assert_eq!(url.to_string(), "zk://a:2181,b:2182/mesos/prod");
        assert!(!format!("{url:?}").contains("u:p"), "no password in logs");
    }

    #[test]
    fn a_file_url_is_read_through() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zk");
        std::fs::write(&file, "zk://z:2181/mesos\n").unwrap();
        let url = ZkUrl::parse(&format!("file://{}", file.display())).unwrap();
        assert_eq!(url.path, "/mesos");
        let missing = ZkUrl::parse("file:///no/such/file")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot read"), "{missing}");
    }

    #[test]
    fn bad_urls_are_refused_with_the_reason() {
        for (bad, reason) in [
            ("z:2181/mesos", "zk://"),
            ("zk://z:2181", "no path"),
            ("zk://z:2181/", "no path"),
            ("zk://z/mesos", "host:port"),
            ("zk://z:x/mesos", "host:port"),
            ("zk://a:1,/mesos", "host:port"),
            ("zk://u@z:1/mesos", "user:password"),
            ("zk://z:1/a//b", "not a ZooKeeper path"),
        ] {
            let error = ZkUrl::parse(bad).unwrap_err().to_string();
            assert!(error.contains(reason), "{bad}: {error}");
        }
    }
}
