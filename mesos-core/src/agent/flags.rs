//! The `mesos-agent` command-line flags: Apache Mesos' names, defaults and checks.
//!
//! Read the way every daemon's flags are (see [`crate::flags::cli`]): `--name=value` or
//! `--name value`, or the environment variable `MESOS_<NAME IN UPPER CASE>`, the command
//! line winning; booleans as `--name`, `--name=true|false`, `--no-name`.
//! [`AgentFlags::to_options`] turns them into the [`AgentOptions`] an agent starts with,
//! detecting the host's resources; [`AgentFlags::to_map`] renders them as the agent's
//! `/flags` endpoint and `GET_FLAGS` show them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::{ArgAction, ColorChoice, Parser};

use super::containerizer::isolators::parse_isolation;
use super::containerizer::{ContainerizerConfig, LauncherKind};
use super::host::{self, HostError, HostMeasurements};
use super::options::{AgentOptions, RecoverMode};
use super::ReconfigurationPolicy;
use crate::flags::{cli, Duration, FlagsError, LoggingLevel};
use crate::resources::validate_role;

/// The name of the command executor program, looked for in `--launcher_dir`.
pub const COMMAND_EXECUTOR: &str = "mesos-executor";

/// The file name of the default executor of task groups, in `--launcher_dir`.
pub const DEFAULT_EXECUTOR: &str = "mesos-default-executor";

/// The agent's flags, typed and checked, with Mesos' defaults for every flag not given.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentFlags {
    /// `--master`: the master to register with: `host:port`, a comma-separated list of
    /// them, or a `zk://` / `file://` URL, kept as given.
    pub master: String,
    /// `--ip`: the address to listen on; unset means every interface.
    pub ip: Option<IpAddr>,
    /// `--port`: the port to listen on (5051).
    pub port: u16,
    /// `--advertise_ip`: the address the master and executors should use.
    pub advertise_ip: Option<IpAddr>,
    /// `--advertise_port`: the port the master and executors should use.
    pub advertise_port: Option<u16>,
    /// `--hostname`: the hostname reported to the master; unset means looked up.
    pub hostname: Option<String>,
    /// `--hostname_lookup`: whether to use the host's name when `--hostname` is unset
    /// (true); false reports the IP address instead.
    pub hostname_lookup: bool,
    /// `--work_dir`: sandboxes, checkpoints and the agent id (required).
    pub work_dir: PathBuf,
    /// `--resources`: the resources to offer, text or JSON (read from the file named
    /// `file:///path`), checked; unset means every resource is detected.
    pub resources: Option<String>,
    /// `--attributes`: `name:value` pairs separated by `;` (read from the file named
    /// `file:///path`), checked.
    pub attributes: Option<String>,
    /// `--domain`: the agent's fault domain as `DomainInfo` JSON (read from the file named
    /// `file:///path`), checked.
    pub domain: Option<String>,
    /// `--runtime_dir`: the agent's runtime files, which do not outlive a reboot
    /// (`/var/run/mesos`); here, the default place of the executors' domain socket.
    pub runtime_dir: PathBuf,
    /// `--http_executor_domain_sockets`: whether executors reach the agent through a Unix
    /// domain socket rather than TCP (false).
    pub http_executor_domain_sockets: bool,
    /// `--domain_socket_location`: the executors' domain socket; `<runtime_dir>/agent.sock`
    /// when unset.
    pub domain_socket_location: Option<PathBuf>,
    /// `--isolation`: the isolators, comma-separated (`posix/cpu,posix/mem`).
    pub isolation: String,
    /// `--launcher`: `linux` or `posix`; `linux` by default when running as root.
    pub launcher: LauncherKind,
    /// `--cgroups_root`: the cgroup under which containers' cgroups are made (`mesos`).
    pub cgroups_root: String,
    /// `--cgroups_enable_cfs`: hard CPU limits through CFS quotas (false).
    pub cgroups_enable_cfs: bool,
    /// `--launcher_dir`: where `mesos-executor` is; the running program's directory by
    /// default.
    pub launcher_dir: PathBuf,
    /// `--executor_registration_timeout`: how long an executor has to subscribe (1mins).
    pub executor_registration_timeout: Duration,
    /// `--executor_reregistration_timeout`: how long a recovered executor has to subscribe
    /// again after an agent restart (2secs).
    pub executor_reregistration_timeout: Duration,
    /// `--executor_shutdown_grace_period`: how long an executor has to exit after SHUTDOWN
    /// (5secs).
    pub executor_shutdown_grace_period: Duration,
    /// `--recover`: `reconnect` to checkpointed executors or `cleanup` everything.
    pub recover: RecoverMode,
    /// `--recovery_timeout`: how long executors have to reconnect after a restart (15mins).
    pub recovery_timeout: Duration,
    /// `--reconfiguration_policy`: which changes of these flags a restart accepts
    /// (`equal`).
    pub reconfiguration_policy: ReconfigurationPolicy,
    /// `--gc_delay`: how long finished executors' sandboxes are kept (1weeks).
    pub gc_delay: Duration,
    /// `--gc_disk_headroom`: the share of the disk kept free by collecting sandboxes
    /// sooner (0.1): they go after `gc_delay × max(0, 1 − headroom − disk usage)`.
    pub gc_disk_headroom: f64,
    /// `--registration_backoff_factor`: the first wait before (re-)registering (1secs).
    pub registration_backoff_factor: Duration,
    /// `--zk_session_timeout`: the ZooKeeper session timeout of a `zk://` master (10secs).
    pub zk_session_timeout: Duration,
    /// `--strict`: whether recovery errors are fatal (true).
    pub strict: bool,
    /// `--default_role`: the role of resources given or detected without one (`*`).
    pub default_role: String,
    /// `--logging_level`: the least severe level logged (`INFO`).
    pub logging_level: LoggingLevel,
    /// `--quiet`: no logging to stderr (false).
    pub quiet: bool,
}

/// The command line as clap reads it; value-level checks happen here, the rest in
/// [`AgentFlags::from_raw`].
#[derive(Debug, Parser)]
#[command(
    name = "mesos-agent",
    about = "The Apache Mesos agent (a Rust reimplementation, wire-compatible with Mesos 1.11).",
    long_about = None,
    rename_all = "snake_case",
    disable_help_flag = true,
    disable_version_flag = true,
    color = ColorChoice::Never,
    after_help = "Every flag can also be set through the environment variable \
                  MESOS_<FLAG NAME IN UPPER CASE>, e.g. MESOS_PORT=5051; a flag on the \
                  command line wins over the environment.\n\
                  Boolean flags take --NAME, --NAME=true|false or --no-NAME."
)]
struct RawFlags {
    /// The master to register with: host:port, host1:port1,host2:port2,...,
    /// zk://host1:port1,.../path, or file:///path/to/file holding one of those. Required.
    #[arg(long, value_parser = parse_master)]
    master: Option<String>,

    /// IP address to listen on.
    #[arg(long)]
    ip: Option<IpAddr>,

    /// Port to listen on.
    #[arg(long, default_value_t = 5051)]
    port: u16,

    /// IP address advertised to reach this agent; the agent does not bind to it.
    #[arg(long)]
    advertise_ip: Option<IpAddr>,

    /// Port advertised to reach this agent; the agent does not bind to it.
    #[arg(long)]
    advertise_port: Option<u16>,

    /// Hostname reported to the master. When unset the host's name is used, or the IP
    /// address with --no-hostname_lookup.
    #[arg(long)]
    hostname: Option<String>,

    /// Whether to look the hostname up when --hostname is not given.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = true, default_missing_value = "true")]
    hostname_lookup: bool,

    /// Directory of sandboxes and the agent's checkpointed state, e.g.
    /// /var/lib/mesos/agent. Required.
    #[arg(long)]
    work_dir: Option<PathBuf>,

    /// Resources to offer, overriding detection by name: cpus:2;mem:1024;ports:[31000-32000]
    /// with name(role):value for static reservations, or a JSON array of Resource objects.
    /// cpus, mem, disk and ports not given are detected. file:///path reads it from a file.
    #[arg(long)]
    resources: Option<String>,

    /// Attributes of this agent: name:value pairs separated by ';', e.g. rack:r1;zone:a.
    /// file:///path reads them from a file.
    #[arg(long)]
    attributes: Option<String>,

    /// Fault domain of this agent as JSON:
    /// {"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}. file:///path reads it
    /// from a file.
    #[arg(long)]
    domain: Option<String>,

    /// Directory of the agent's runtime files, which need not survive a reboot: the
    /// executors' domain socket by default.
    #[arg(long, default_value = "/var/run/mesos")]
    runtime_dir: PathBuf,

    /// Let executors call the agent through a Unix domain socket (given to them as
    /// MESOS_DOMAIN_SOCKET) instead of TCP; the agent serves TCP as well.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = false, default_missing_value = "true")]
    http_executor_domain_sockets: bool,

    /// Absolute path of the executors' domain socket, shorter than 108 bytes;
    /// <runtime_dir>/agent.sock by default. Used with --http_executor_domain_sockets.
    #[arg(long)]
    domain_socket_location: Option<PathBuf>,

    /// Isolators, comma-separated: cgroups/cpu, cgroups/mem, cgroups/pids, posix/cpu,
    /// posix/mem, namespaces/pid.
    #[arg(long, value_parser = parse_isolation_flag, default_value = "posix/cpu,posix/mem")]
    isolation: String,

    /// How containers' processes are started: linux (cgroups and namespaces; the default
    /// when running as root) or posix.
    #[arg(long, value_parser = parse_launcher)]
    launcher: Option<LauncherKind>,

    /// Name of the cgroup under which containers' cgroups are made.
    #[arg(long, default_value = "mesos")]
    cgroups_root: String,

    /// Enforce CPU limits with CFS bandwidth control (hard limits).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = false, default_missing_value = "true")]
    cgroups_enable_cfs: bool,

    /// Directory holding mesos-executor; the directory of this program by default.
    #[arg(long)]
    launcher_dir: Option<PathBuf>,

    /// Time an executor has to subscribe with the agent before it is killed.
    #[arg(long, default_value_t = Duration::from_secs(60))]
    executor_registration_timeout: Duration,

    /// Time a recovered executor has to subscribe again after the agent restarted.
    #[arg(long, default_value_t = Duration::from_secs(2))]
    executor_reregistration_timeout: Duration,

    /// Time an executor has to exit after being told to shut down before it is killed.
    #[arg(long, default_value_t = Duration::from_secs(5))]
    executor_shutdown_grace_period: Duration,

    /// What to do with executors left by a previous run of the agent: reconnect to them,
    /// or cleanup (kill them and start afresh).
    #[arg(long, value_parser = parse_recover, default_value = "reconnect")]
    recover: RecoverMode,

    /// Time executors have to reconnect after the agent restarts.
    #[arg(long, default_value_t = Duration::from_secs(15 * 60))]
    recovery_timeout: Duration,

    /// Which changes of the agent's configuration a restart accepts: equal (none), or
    /// additive (more resources, new attributes, a fault domain where there was none).
    #[arg(long, default_value = "equal")]
    reconfiguration_policy: ReconfigurationPolicy,

    /// Time the sandboxes of finished executors are kept.
    #[arg(long, default_value_t = Duration::from_secs(7 * 24 * 60 * 60))]
    gc_delay: Duration,

    /// Share of the disk to keep free: sandboxes are removed after
    /// gc_delay * max(0, 1 - gc_disk_headroom - disk usage). Between 0 and 1.
    #[arg(long, default_value_t = super::gc::DEFAULT_DISK_HEADROOM, value_parser = parse_headroom)]
    gc_disk_headroom: f64,

    /// First wait before registering with the master, doubled on each retry.
    #[arg(long, default_value_t = Duration::from_secs(1))]
    registration_backoff_factor: Duration,

    /// ZooKeeper session timeout, when --master is a zk:// URL.
    #[arg(long, default_value_t = Duration::from_secs(10))]
    zk_session_timeout: Duration,

    /// Whether errors while recovering checkpointed state stop the agent.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = true, default_missing_value = "true")]
    strict: bool,

    /// Role of the resources given or detected without one; * means unreserved.
    #[arg(long, default_value = "*")]
    default_role: String,

    /// Log messages at or above this level: INFO, WARNING or ERROR.
    #[arg(long, value_enum, default_value = "INFO")]
    logging_level: LoggingLevel,

    /// Disable logging to stderr.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = false, default_missing_value = "true")]
    quiet: bool,
}

/// `--master`: a `zk://hosts/path` or `file:///path` URL, or `host:port` items separated
/// by commas.
fn parse_master(text: &str) -> Result<String, String> {
    if crate::ha::ZkUrl::is_zk(text) {
        return crate::ha::ZkUrl::parse(text)
            .map(|_| text.to_string())
            .map_err(|e| e.to_string());
    }
    for item in text.split(',').map(str::trim) {
        let valid = item
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid {
            return Err(format!(
                "'{item}' is not host:port (nor is '{text}' a zk:// or file:// URL)"
            ));
        }
    }
    Ok(text.to_string())
}

/// `--isolation`: every name a known isolator, no two for one resource.
fn parse_isolation_flag(text: &str) -> Result<String, String> {
    parse_isolation(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

/// `--launcher`: `linux` or `posix`.
fn parse_launcher(text: &str) -> Result<LauncherKind, String> {
    match text {
        "linux" => Ok(LauncherKind::Linux),
        "posix" => Ok(LauncherKind::Posix),
        _ => Err(format!("'{text}' is neither 'linux' nor 'posix'")),
    }
}

/// `--recover`: `reconnect` or `cleanup`.
/// A `--gc_disk_headroom`: a fraction in [0, 1).
fn parse_headroom(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..1.0).contains(&value) => Ok(value),
        _ => Err(format!(
            "'{text}' is not a number from 0 up to (not including) 1"
        )),
    }
}

fn parse_recover(text: &str) -> Result<RecoverMode, String> {
    match text {
        "reconnect" => Ok(RecoverMode::Reconnect),
        "cleanup" => Ok(RecoverMode::Cleanup),
        _ => Err(format!("'{text}' is neither 'reconnect' nor 'cleanup'")),
    }
}

/// The flag value of a launcher.
fn launcher_name(launcher: LauncherKind) -> &'static str {
    match launcher {
        LauncherKind::Linux => "linux",
        LauncherKind::Posix => "posix",
    }
}

/// The flag value of a recovery mode.
fn recover_name(recover: RecoverMode) -> &'static str {
    match recover {
        RecoverMode::Reconnect => "reconnect",
        RecoverMode::Cleanup => "cleanup",
    }
}

/// Mesos' default launcher: `linux` when running as root on Linux, `posix` otherwise.
fn default_launcher() -> LauncherKind {
    if cfg!(target_os = "linux") && nix::unistd::geteuid().is_root() {
        LauncherKind::Linux
    } else {
        LauncherKind::Posix
    }
}

/// The directory of the running program, `--launcher_dir`'s default.
fn program_dir() -> Result<PathBuf, FlagsError> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .ok_or_else(|| {
            FlagsError::Invalid(
                "--launcher_dir is not given and the running program's directory is unknown"
                    .to_string(),
            )
        })
}

/// The longest path a Unix domain socket's address holds (`sun_path` less its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// A domain socket path executors in any working directory can use: absolute, not one
/// systemd passes (`systemd:<name>`, not supported), short enough for a socket address.
fn check_domain_socket(path: &Path) -> Result<(), FlagsError> {
    let shown = path.display();
    if path.as_os_str().as_encoded_bytes().starts_with(b"systemd:") {
        return Err(FlagsError::Invalid(format!(
            "--domain_socket_location: '{shown}': sockets passed by systemd are not supported; \
             give a path"
        )));
    }
    if !path.is_absolute() {
        return Err(FlagsError::Invalid(format!(
            "--domain_socket_location: '{shown}' is not an absolute path"
        )));
    }
    let length = path.as_os_str().len();
    if length > MAX_SOCKET_PATH {
        return Err(FlagsError::Invalid(format!(
            "--domain_socket_location: '{shown}' is {length} bytes long; a domain socket's \
             path must be at most {MAX_SOCKET_PATH}"
        )));
    }
    Ok(())
}

/// A flag's value, or the contents of the file it names as `file:///path`, as Mesos
/// loads flags.
fn fetch(name: &str, value: Option<String>) -> Result<Option<String>, FlagsError> {
    match value {
        Some(text) => match text.strip_prefix("file://") {
            Some(path) => std::fs::read_to_string(path)
                .map(Some)
                .map_err(|e| FlagsError::Invalid(format!("--{name}: cannot read '{path}': {e}"))),
            None => Ok(Some(text)),
        },
        None => Ok(None),
    }
}

/// A [`HostError`] as a flags error.
fn host_error(error: HostError) -> FlagsError {
    FlagsError::Invalid(error.to_string())
}

impl AgentFlags {
    /// Reads the flags from `args` (starting with the program name, as
    /// `std::env::args_os()` does) and from the process' `MESOS_*` environment variables.
    pub fn parse_from<I, T>(args: I) -> Result<AgentFlags, FlagsError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        AgentFlags::parse_from_with_env(args, |name| std::env::var(name).ok())
    }

    /// Reads the flags from `args` (starting with the program name) and from the
    /// environment `env` describes: `env("MESOS_PORT")` is the value of `MESOS_PORT`, if
    /// set.
    pub fn parse_from_with_env<I, T, E>(args: I, env: E) -> Result<AgentFlags, FlagsError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
        E: Fn(&str) -> Option<String>,
    {
        let raw: RawFlags = cli::parse(args, env)?;
        AgentFlags::from_raw(raw)
    }

    /// Applies the checks across flags and of the values only the agent understands.
    fn from_raw(raw: RawFlags) -> Result<AgentFlags, FlagsError> {
        let invalid = |message: &str| FlagsError::Invalid(message.to_string());
        let master = raw.master.ok_or_else(|| {
            invalid("--master is required: give --master=<host:port> or --master=zk://.../mesos")
        })?;
        let work_dir = raw.work_dir.ok_or_else(|| {
            invalid("--work_dir is required: give --work_dir=<path>, e.g. /var/lib/mesos/agent")
        })?;
        validate_role(&raw.default_role)
            .map_err(|e| FlagsError::Invalid(format!("--default_role: {e}")))?;
        let resources = fetch("resources", raw.resources)?;
        let attributes = fetch("attributes", raw.attributes)?;
        let domain = fetch("domain", raw.domain)?;
        if let Some(resources) = &resources {
            host::given_resources(resources, &raw.default_role).map_err(host_error)?;
        }
        host::agent_attributes(attributes.as_deref()).map_err(host_error)?;
        if let Some(domain) = &domain {
            host::parse_domain(domain).map_err(host_error)?;
        }
        let launcher_dir = match raw.launcher_dir {
            Some(dir) => dir,
            None => program_dir()?,
        };
        let flags = AgentFlags {
            master,
            ip: raw.ip,
            port: raw.port,
            advertise_ip: raw.advertise_ip,
            advertise_port: raw.advertise_port,
            hostname: raw.hostname,
            hostname_lookup: raw.hostname_lookup,
            work_dir,
            resources,
            attributes,
            domain,
            runtime_dir: raw.runtime_dir,
            http_executor_domain_sockets: raw.http_executor_domain_sockets,
            domain_socket_location: raw.domain_socket_location,
            isolation: raw.isolation,
            launcher: raw.launcher.unwrap_or_else(default_launcher),
            cgroups_root: raw.cgroups_root,
            cgroups_enable_cfs: raw.cgroups_enable_cfs,
            launcher_dir,
            executor_registration_timeout: raw.executor_registration_timeout,
            executor_reregistration_timeout: raw.executor_reregistration_timeout,
            executor_shutdown_grace_period: raw.executor_shutdown_grace_period,
            recover: raw.recover,
            recovery_timeout: raw.recovery_timeout,
            reconfiguration_policy: raw.reconfiguration_policy,
            gc_delay: raw.gc_delay,
            gc_disk_headroom: raw.gc_disk_headroom,
            registration_backoff_factor: raw.registration_backoff_factor,
            zk_session_timeout: raw.zk_session_timeout,
            strict: raw.strict,
            default_role: raw.default_role,
            logging_level: raw.logging_level,
            quiet: raw.quiet,
        };
        if let Some(socket) = flags.executor_domain_socket() {
            check_domain_socket(&socket)?;
        }
        Ok(flags)
    }

    /// The executors' domain socket when `--http_executor_domain_sockets` is on:
    /// `--domain_socket_location`, else `agent.sock` in `--runtime_dir`.
    fn executor_domain_socket(&self) -> Option<PathBuf> {
        self.http_executor_domain_sockets.then(|| {
            self.domain_socket_location
                .clone()
                .unwrap_or_else(|| self.runtime_dir.join("agent.sock"))
        })
    }

    /// The [`AgentOptions`] these flags describe, measuring this host for the resources
    /// `--resources` leaves out.
    pub fn to_options(&self) -> Result<AgentOptions, FlagsError> {
        self.to_options_measured(|| host::measure(&self.work_dir))
    }

    /// The [`AgentOptions`] these flags describe, with `measure` standing in for this
    /// host's quantities (called only when `--resources` leaves something to detect).
    pub fn to_options_measured<M>(&self, measure: M) -> Result<AgentOptions, FlagsError>
    where
        M: FnOnce() -> Result<HostMeasurements, HostError>,
    {
        let resources =
            host::agent_resources(self.resources.as_deref(), &self.default_role, measure)
                .map_err(host_error)?;
        let attributes = host::agent_attributes(self.attributes.as_deref()).map_err(host_error)?;
        let domain = self
            .domain
            .as_deref()
            .map(host::parse_domain)
            .transpose()
            .map_err(host_error)?;
        let ip = self.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let advertise = match (self.advertise_ip, self.advertise_port) {
            (None, None) => None,
            (advertised, port) => Some(SocketAddr::new(
                advertised.unwrap_or(ip),
                port.unwrap_or(self.port),
            )),
        };
        Ok(AgentOptions {
            master: self.master.clone(),
            bind: SocketAddr::new(ip, self.port),
            advertise,
            hostname: self.reported_hostname(),
            work_dir: self.work_dir.clone(),
            resources: resources.to_protos(),
            attributes: attributes.into_protos(),
            domain,
            executor_domain_socket: self.executor_domain_socket(),
            containerizer: ContainerizerConfig {
                isolation: self.isolation.clone(),
                launcher: self.launcher,
                cgroups_root: self.cgroups_root.clone(),
                cgroups_enable_cfs: self.cgroups_enable_cfs,
            },
            command_executor: self.launcher_dir.join(COMMAND_EXECUTOR),
            default_executor: self.launcher_dir.join(DEFAULT_EXECUTOR),
            executor_registration_timeout: self.executor_registration_timeout.as_std(),
            executor_reregistration_timeout: self.executor_reregistration_timeout.as_std(),
            executor_shutdown_grace_period: self.executor_shutdown_grace_period.as_std(),
            recover: self.recover,
            recovery_timeout: self.recovery_timeout.as_std(),
            reconfiguration_policy: self.reconfiguration_policy,
            gc_delay: self.gc_delay.as_std(),
            gc_disk_headroom: self.gc_disk_headroom,
            registration_backoff_factor: self.registration_backoff_factor.as_std(),
            zk_session_timeout: self.zk_session_timeout.as_std(),
            flags: self.to_map(),
        })
    }

    /// The hostname reported to the master: `--hostname`, else this host's name (with
    /// `--hostname_lookup`), else the advertised or bound IP address.
    fn reported_hostname(&self) -> String {
        if let Some(hostname) = &self.hostname {
            return hostname.clone();
        }
        let looked_up = self
            .hostname_lookup
            .then(nix::unistd::gethostname)
            .and_then(Result::ok)
            .and_then(|name| name.into_string().ok())
            .filter(|name| !name.is_empty());
        looked_up.unwrap_or_else(|| {
            self.advertise_ip
                .or(self.ip)
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
                .to_string()
        })
    }

    /// Every flag by name, valued as Mesos' `/flags` endpoint and `GET_FLAGS` show it:
    /// durations like `15secs`, booleans `true`/`false`, optional flags left out when
    /// unset, `launcher` and `launcher_dir` as resolved. `help` and `version` are listed as
    /// `false`, as Mesos lists them for a running agent.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let optional = [
            ("ip", self.ip.map(|ip| ip.to_string())),
            ("advertise_ip", self.advertise_ip.map(|ip| ip.to_string())),
            ("advertise_port", self.advertise_port.map(|p| p.to_string())),
            ("hostname", self.hostname.clone()),
            ("resources", self.resources.clone()),
            ("attributes", self.attributes.clone()),
            ("domain", self.domain.clone()),
            (
                "domain_socket_location",
                self.domain_socket_location
                    .as_ref()
                    .map(|path| path.display().to_string()),
            ),
        ];
        let always = [
            ("master", self.master.clone()),
            ("port", self.port.to_string()),
            ("hostname_lookup", self.hostname_lookup.to_string()),
            ("work_dir", self.work_dir.display().to_string()),
            ("runtime_dir", self.runtime_dir.display().to_string()),
            (
                "http_executor_domain_sockets",
                self.http_executor_domain_sockets.to_string(),
            ),
            ("isolation", self.isolation.clone()),
            ("launcher", launcher_name(self.launcher).to_string()),
            ("cgroups_root", self.cgroups_root.clone()),
            ("cgroups_enable_cfs", self.cgroups_enable_cfs.to_string()),
            ("launcher_dir", self.launcher_dir.display().to_string()),
            (
                "executor_registration_timeout",
                self.executor_registration_timeout.to_string(),
            ),
            (
                "executor_reregistration_timeout",
                self.executor_reregistration_timeout.to_string(),
            ),
            (
                "executor_shutdown_grace_period",
                self.executor_shutdown_grace_period.to_string(),
            ),
            ("recover", recover_name(self.recover).to_string()),
            ("recovery_timeout", self.recovery_timeout.to_string()),
            (
                "reconfiguration_policy",
                self.reconfiguration_policy.name().to_string(),
            ),
            ("gc_delay", self.gc_delay.to_string()),
            ("gc_disk_headroom", self.gc_disk_headroom.to_string()),
            (
                "registration_backoff_factor",
                self.registration_backoff_factor.to_string(),
            ),
            ("strict", self.strict.to_string()),
            ("zk_session_timeout", self.zk_session_timeout.to_string()),
            ("default_role", self.default_role.clone()),
            ("logging_level", self.logging_level.to_string()),
            ("quiet", self.quiet.to_string()),
            ("help", false.to_string()),
            ("version", false.to_string()),
        ];
        optional
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name, value)))
            .chain(always)
            .map(|(name, value)| (name.to_string(), value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::resources::{Resources, Scalar};

    /// The flags every test needs.
    const REQUIRED: [&str; 2] = ["--master=127.0.0.1:5050", "--work_dir=/tmp/agent"];

    /// Parses `args` (without the program name) with the environment `env`.
    fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Result<AgentFlags, FlagsError> {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AgentFlags::parse_from_with_env(
            std::iter::once("mesos-agent").chain(args.iter().copied()),
            |name| env.get(name).cloned(),
        )
    }

    /// Parses the required flags plus `args`, with an empty environment.
    fn parse(args: &[&str]) -> Result<AgentFlags, FlagsError> {
        let all: Vec<&str> = REQUIRED.iter().chain(args).copied().collect();
        parse_env(&all, &[])
    }

    /// The message of an `Invalid` error; panics on anything else.
    fn invalid(result: Result<AgentFlags, FlagsError>) -> String {
        match result {
            Err(FlagsError::Invalid(message)) => message,
            other => panic!("expected an invalid-flags error, got {other:?}"),
        }
    }

    const HOST: HostMeasurements = HostMeasurements {
        cpus: 4.0,
        memory_bytes: 8 << 30,
        disk_bytes: 20 << 30,
    };

    #[test]
    fn defaults_are_mesos_defaults() {
        let flags = parse(&[]).unwrap();
        assert_eq!(flags.master, "127.0.0.1:5050");
        assert_eq!(flags.work_dir, PathBuf::from("/tmp/agent"));
        assert_eq!(flags.port, 5051);
        assert_eq!(flags.isolation, "posix/cpu,posix/mem");
        assert_eq!(flags.launcher, default_launcher());
        assert_eq!(flags.cgroups_root, "mesos");
        assert!(!flags.cgroups_enable_cfs);
        assert_eq!(flags.executor_registration_timeout, Duration::from_secs(60));
        assert_eq!(flags.executor_shutdown_grace_period, Duration::from_secs(5));
        assert_eq!(flags.recover, RecoverMode::Reconnect);
        assert_eq!(flags.recovery_timeout, Duration::from_secs(900));
        assert_eq!(flags.gc_delay, Duration::from_secs(7 * 86_400));
        assert_eq!(flags.registration_backoff_factor, Duration::from_secs(1));
        assert!(flags.strict);
        assert!(flags.hostname_lookup);
        assert_eq!(flags.default_role, "*");
        assert_eq!(flags.logging_level, LoggingLevel::Info);
        assert_eq!(flags.launcher_dir, program_dir().unwrap());
        let map = flags.to_map();
        assert_eq!(map["gc_delay"], "1weeks");
        assert_eq!(map["gc_disk_headroom"], "0.1");
        assert_eq!(map["executor_registration_timeout"], "1mins");
        assert_eq!(map["recovery_timeout"], "15mins");
        for name in ["ip", "hostname", "resources", "attributes", "domain"] {
            assert!(!map.contains_key(name), "{name} shown while unset");
        }
    }

    #[test]
    fn master_and_work_dir_are_required() {
        let message = invalid(parse_env(&["--work_dir=/tmp/a"], &[]));
        assert!(message.contains("--master"), "{message}");
        let message = invalid(parse_env(&["--master=m:5050"], &[]));
        assert!(message.contains("--work_dir"), "{message}");
    }

    #[test]
    fn master_takes_mesos_forms() {
        let dir = tempfile::tempdir().unwrap();
        let zk_file = dir.path().join("zk");
        std::fs::write(&zk_file, "zk://z1:2181/mesos\n").unwrap();
        let file_url = format!("file://{}", zk_file.display());
        for good in [
            "127.0.0.1:5050",
            "m1:5050,m2:5050",
            "[::1]:5050",
            "zk://z1:2181,z2:2181/mesos",
            file_url.as_str(),
        ] {
            let flags = parse_env(&["--work_dir=/w", &format!("--master={good}")], &[]).unwrap();
            assert_eq!(flags.master, good);
        }
        for bad in [
            "localhost",
            "m:notaport",
            "zk://z1:2181",
            ":5050",
            "file://",
            "file:///no/such/zk",
        ] {
            let message = invalid(parse_env(
                &["--work_dir=/w", &format!("--master={bad}")],
                &[],
            ));
            assert!(message.contains("--master"), "{bad}: {message}");
        }
    }

    #[test]
    fn environment_variables_set_flags_and_command_line_wins() {
        let flags = parse_env(
            &["--port=6000", "--no-strict"],
            &[
                ("MESOS_MASTER", "10.0.0.1:5050"),
                ("MESOS_WORK_DIR", "/var/lib/mesos/agent"),
                ("MESOS_PORT", "5052"),
                ("MESOS_STRICT", "true"),
                ("MESOS_GC_DELAY", "2days"),
            ],
        )
        .unwrap();
        assert_eq!(flags.master, "10.0.0.1:5050");
        assert_eq!(flags.port, 6000);
        assert!(!flags.strict);
        assert_eq!(flags.gc_delay, Duration::from_secs(2 * 86_400));
        let message = invalid(parse_env(&REQUIRED, &[("MESOS_RECOVERY_TIMEOUT", "later")]));
        assert!(message.contains("MESOS_RECOVERY_TIMEOUT"), "{message}");
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (flag, bad) in [
            ("--recover", "--recover=sometimes"),
            ("--launcher", "--launcher=docker"),
            ("--isolation", "--isolation=gpu/nvidia"),
            ("--gc_delay", "--gc_delay=1week"),
            ("--gc_disk_headroom", "--gc_disk_headroom=1.5"),
            ("--port", "--port=65536"),
            ("--resources", "--resources=cpus:x"),
            ("--attributes", "--attributes=rack"),
            ("--domain", "--domain={\"fault_domain\":7}"),
            ("--default_role", "--default_role=-a"),
            ("--cgroups_enable_cfs", "--cgroups_enable_cfs=maybe"),
            ("--no_such_flag", "--no_such_flag=1"),
        ] {
            let message = invalid(parse(&[bad]));
            assert!(message.contains(flag), "{bad}: {message}");
        }
    }

    #[test]
    fn to_options_detects_what_resources_leave_out() {
        let flags = parse(&[
            "--resources=cpus:2;cpus(ops):1",
            "--attributes=rack:r1",
            "--domain={\"fault_domain\":{\"region\":{\"name\":\"r\"},\"zone\":{\"name\":\"z\"}}}",
            "--ip=127.0.0.1",
            "--port=0",
            "--advertise_port=7000",
            "--hostname=agent1",
            "--launcher=posix",
            "--launcher_dir=/opt/mesos/libexec",
            "--isolation=cgroups/cpu,cgroups/mem",
            "--cgroups_enable_cfs",
            "--recover=cleanup",
        ])
        .unwrap();
        let options = flags.to_options_measured(|| Ok(HOST)).unwrap();
        let resources = Resources::try_from_protos(&options.resources).unwrap();
        assert_eq!(resources.cpus(), Some(Scalar::from_units(3)));
        assert_eq!(
            resources.reserved(Some("ops")).cpus(),
            Some(Scalar::from_units(1))
        );
        assert_eq!(resources.mem(), Some(Scalar::from_units(7 * 1024)));
        assert_eq!(resources.disk(), Some(Scalar::from_units(15 * 1024)));
        assert!(resources.ports().is_some());
        assert_eq!(options.attributes.len(), 1);
        assert_eq!(options.domain.unwrap().fault_domain.unwrap().zone.name, "z");
        assert_eq!(options.bind, "127.0.0.1:0".parse().unwrap());
        assert_eq!(options.advertise, Some("127.0.0.1:7000".parse().unwrap()));
        assert_eq!(options.hostname, "agent1");
        assert_eq!(
            options.command_executor,
            PathBuf::from("/opt/mesos/libexec/mesos-executor")
        );
        assert_eq!(options.containerizer.launcher, LauncherKind::Posix);
        assert_eq!(options.containerizer.isolation, "cgroups/cpu,cgroups/mem");
        assert!(options.containerizer.cgroups_enable_cfs);
        assert_eq!(options.recover, RecoverMode::Cleanup);
        assert_eq!(options.flags, flags.to_map());
    }

    #[test]
    fn file_values_are_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let resources = dir.path().join("resources");
        std::fs::write(&resources, "cpus:3;mem:64\n").unwrap();
        let domain = dir.path().join("domain.json");
        std::fs::write(
            &domain,
            r#"{"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}"#,
        )
        .unwrap();
        let flags = parse(&[
            &format!("--resources=file://{}", resources.display()),
            &format!("--domain=file://{}", domain.display()),
        ])
        .unwrap();
        assert_eq!(flags.resources.as_deref(), Some("cpus:3;mem:64\n"));
        let options = flags.to_options_measured(|| Ok(HOST)).unwrap();
        let total = Resources::try_from_protos(&options.resources).unwrap();
        assert_eq!(total.cpus(), Some(Scalar::from_units(3)));
        assert!(options.domain.is_some());
        let missing = dir.path().join("missing");
        let message = invalid(parse(&[&format!(
            "--attributes=file://{}",
            missing.display()
        )]));
        assert!(message.contains("--attributes"), "{message}");
    }

    #[test]
    fn executor_domain_socket_is_off_by_default_and_checked_when_on() {
        let flags = parse(&[]).unwrap();
        assert!(!flags.http_executor_domain_sockets);
        assert_eq!(flags.runtime_dir, PathBuf::from("/var/run/mesos"));
        let options = flags.to_options_measured(|| Ok(HOST)).unwrap();
        assert_eq!(options.executor_domain_socket, None);
        assert_eq!(options.flags["http_executor_domain_sockets"], "false");
        assert!(!options.flags.contains_key("domain_socket_location"));

        let on = |extra: &[&str]| {
            let mut args = vec!["--http_executor_domain_sockets"];
            args.extend_from_slice(extra);
            parse(&args)
        };
        let options = on(&["--runtime_dir=/run/m"])
            .unwrap()
            .to_options_measured(|| Ok(HOST))
            .unwrap();
        assert_eq!(
            options.executor_domain_socket,
            Some(PathBuf::from("/run/m/agent.sock"))
        );
        let flags = on(&["--domain_socket_location=/run/a.sock"]).unwrap();
        assert_eq!(flags.to_map()["domain_socket_location"], "/run/a.sock");
        let options = flags.to_options_measured(|| Ok(HOST)).unwrap();
        assert_eq!(
            options.executor_domain_socket,
            Some(PathBuf::from("/run/a.sock"))
        );

        let long = format!("--domain_socket_location=/{}", "s".repeat(120));
        for (bad, reason) in [
            ("--domain_socket_location=agent.sock", "absolute"),
            ("--domain_socket_location=systemd:agent", "systemd"),
            (long.as_str(), "at most 107"),
        ] {
            let message = invalid(on(&[bad]));
            assert!(message.contains("--domain_socket_location"), "{message}");
            assert!(message.contains(reason), "{bad}: {message}");
        }
        // Without the switch the location is not used, so it is not checked (as Mesos).
        assert!(parse(&["--domain_socket_location=agent.sock"]).is_ok());
    }

    #[test]
    fn hostname_falls_back_to_the_ip_without_lookup() {
        let flags = parse(&["--ip=10.1.2.3", "--no-hostname_lookup"]).unwrap();
        assert_eq!(flags.reported_hostname(), "10.1.2.3");
        assert!(!parse(&[]).unwrap().reported_hostname().is_empty());
    }

    /// Every flag we show, shown as the real agent showed it (the fixture's agent ran with
    /// the flags below set, the rest defaulted).
    #[test]
    fn to_map_matches_the_apache_mesos_fixture() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/apache-mesos/agent/flags.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("SKIPPED: no Apache Mesos fixture at {}", path.display());
            return;
        };
        let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
        let fixture = fixture["flags"].as_object().unwrap();
        let flags = parse_env(
            &[
                "--master=127.0.0.1:5050",
                "--ip=127.0.0.1",
                "--work_dir=/var/lib/mesos/agent",
                "--resources=cpus:2;mem:4096;disk:10000;ports:[31000-32000]",
                "--attributes=rack:r1;zone:a",
                "--launcher=linux",
                "--launcher_dir=/usr/local/libexec/mesos",
                "--isolation=filesystem/linux,cgroups/cpu,cgroups/mem,namespaces/pid",
            ],
            &[],
        )
        .unwrap();
        let map = flags.to_map();
        for (name, value) in &map {
            let expected = fixture.get(name).and_then(|v| v.as_str());
            assert_eq!(expected, Some(value.as_str()), "flag {name}");
        }
        assert!(map.len() >= 20, "only {} flags compared", map.len());
    }

    #[test]
    fn help_lists_every_flag_and_version_answers() {
        let Err(FlagsError::Help(text)) = parse_env(&["--help"], &[]) else {
            panic!("--help did not answer with help");
        };
        assert!(text.contains("[default: 5051]"), "{text}");
        for name in parse(&[]).unwrap().to_map().keys() {
            assert!(
                text.contains(&format!("--{name}")),
                "--{name} missing from help"
            );
        }
        let Err(FlagsError::Version(text)) = parse_env(&["--version"], &[]) else {
            panic!("--version did not answer with the version");
        };
        assert!(text.contains(crate::MESOS_WIRE_VERSION), "{text}");
    }
}
