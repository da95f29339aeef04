//! Real ZooKeeper servers for the HA tests, from Debian's `zookeeper` package (its jars
//! in `/usr/share/java`), each on a loopback port with its own data directory.
//! Self-contained, so that other crates' tests include it by path. The servers do not
//! fsync their transaction logs (`forceSync=no`): on a busy CI disk an fsync can hold up
//! every client's pings past a test's short session timeout. A killed server's writes are
//! still in the page cache; only a crash of the machine would lose them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package puts ZooKeeper's jar (and its dependencies beside it).
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";

/// How long a server may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One running ZooKeeper server; killed (SIGKILL) when dropped.
pub struct ZooKeeper {
    child: Option<Child>,
    /// The client port, on 127.0.0.1.
    pub port: u16,
    classpath: String,
    dir: tempfile::TempDir,
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The Java classpath of Debian's ZooKeeper, or why there is none.
fn classpath() -> Result<String, String> {
    if !Path::new(ZOOKEEPER_JAR).exists() {
        return Err(format!(
            "ZooKeeper is not installed ({ZOOKEEPER_JAR} is missing; \
             `apt-get install zookeeper` provides it)"
        ));
    }
    let jars: Vec<String> = std::fs::read_dir("/usr/share/java")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".jar"))
        .collect();
    Ok(jars.join(":"))
}

/// Whether the server at `port` answers the `srvr` command as a serving server.
fn serving(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"srvr").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.contains("Mode:")
}

impl ZooKeeper {
    /// Starts a standalone server and waits until it serves.
    pub fn start() -> Result<ZooKeeper, String> {
        let mut ensemble = ZooKeeper::ensemble(1)?;
        Ok(ensemble.remove(0))
    }

    /// Starts an ensemble of `size` servers and waits until each serves.
    pub fn ensemble(size: usize) -> Result<Vec<ZooKeeper>, String> {
        let classpath = classpath()?;
        let ports: Vec<(u16, u16, u16)> = (0..size)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let mut servers = Vec::new();
        for (id, (client, _, _)) in ports.iter().enumerate() {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let data = dir.path().join("data");
            std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
            let mut config = format!(
                "tickTime=200\ninitLimit=50\nsyncLimit=25\ndataDir={}\nclientPort={client}\n\
                 clientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
                 minSessionTimeout=400\nmaxSessionTimeout=60000\n\
                 4lw.commands.whitelist=srvr\nforceSync=no\n",
                data.display()
            );
            if size > 1 {
                std::fs::write(data.join("myid"), format!("{}\n", id + 1))
                    .map_err(|e| e.to_string())?;
                for (other, (_, peer, election)) in ports.iter().enumerate() {
                    config += &format!("server.{}=127.0.0.1:{peer}:{election}\n", other + 1);
                }
            }
            let cfg = dir.path().join("zoo.cfg");
            std::fs::write(&cfg, config).map_err(|e| e.to_string())?;
            let mut server = ZooKeeper {
                child: None,
                port: *client,
                classpath: classpath.clone(),
                dir,
            };
            server.spawn()?;
            servers.push(server);
        }
        for server in &servers {
            server.wait_until_serving()?;
        }
        Ok(servers)
    }

    /// Runs the server of this directory's `zoo.cfg`.
    fn spawn(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("zookeeper.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new("java")
            .args(["-Xmx256m", "-cp", &self.classpath])
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(self.dir.path().join("zoo.cfg"))
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run java for ZooKeeper: {e}"))?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the server serves clients (for an ensemble member: has a quorum).
    pub fn wait_until_serving(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while !serving(self.port) {
            if Instant::now() > deadline {
                return Err(format!(
                    "ZooKeeper on port {} did not serve within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Starts a killed server again on its port and data (an ensemble member rejoins).
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }

    /// `127.0.0.1:<port>`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A `zk://` URL for `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("zk://{}{path}", self.server())
    }

    /// The server's pid, for SIGSTOP and the like.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `zk://` URL naming every server of `ensemble`, for `path`.
pub fn ensemble_url(ensemble: &[ZooKeeper], path: &str) -> String {
    let servers: Vec<String> = ensemble.iter().map(ZooKeeper::server).collect();
    format!("zk://{}{path}", servers.join(","))
}

/// A standalone server, or `None` after printing why the test is skipped; with
/// `MESOS_REQUIRE_PYTHON_DEPS=1` (as CI runs) a missing ZooKeeper fails the test.
pub fn zookeeper_or_skip() -> Option<ZooKeeper> {
    ensemble_or_skip(1).map(|mut ensemble| ensemble.remove(0))
}

/// An ensemble of `size` servers, or `None` after printing why the test is skipped (a
/// failure under `MESOS_REQUIRE_PYTHON_DEPS=1`).
pub fn ensemble_or_skip(size: usize) -> Option<Vec<ZooKeeper>> {
    match ZooKeeper::ensemble(size) {
        Ok(ensemble) => Some(ensemble),
        Err(reason) => {
            let required = std::env::var("MESOS_REQUIRE_PYTHON_DEPS");
            assert_ne!(required.as_deref(), Ok("1"), "{reason}");
            println!("SKIPPED: {reason}");
            None
        }
    }
}
