//! The `mesos-master` command-line flags: Apache Mesos' names, defaults and checks.
//!
//! Every flag is written `--name=value` (or `--name value`) and can also come from the
//! environment variable `MESOS_<NAME IN UPPER CASE>`; a flag on the command line wins over
//! the environment. Boolean flags take `--name`, `--name=true|false` and `--no-name`, as
//! Mesos' do. [`MasterFlags::to_map`] renders the flags the way the master's `/flags`
//! endpoint and the operator API's `GET_FLAGS` show them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{ArgAction, ColorChoice, Parser, ValueEnum};

use crate::flags::cli::{self, write_value_name};
use crate::flags::Duration;
pub use crate::flags::{FlagsError, LoggingLevel};
use crate::resources::{validate_role, Scalar};

/// The shortest `--agent_reregister_timeout` Mesos accepts.
const MIN_AGENT_REREGISTER_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The range Mesos accepts for `--agent_ping_timeout`.
const AGENT_PING_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(15 * 60));

/// Where the master keeps its registry (`--registry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RegistryKind {
    /// `replicated_log`: durable; in ZooKeeper under the `--zk` path when `--zk` is given,
    /// else in the embedded store under `--work_dir`.
    ReplicatedLog,
    /// `in_memory`: lost when the master exits; for tests.
    InMemory,
}

/// How the allocator orders roles or frameworks (`--role_sorter`, `--framework_sorter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SorterKind {
    /// `drf`: dominant resource fairness.
    Drf,
    /// `random`: a random order, weighted by role weight.
    Random,
}

/// The flag value: `replicated_log` or `in_memory`.
impl fmt::Display for RegistryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value_name(*self, f)
    }
}

/// The flag value: `drf` or `random`.
impl fmt::Display for SorterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value_name(*self, f)
    }
}

/// The master's flags, typed, with Mesos' defaults for every flag not given.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterFlags {
    /// `--ip`: the address to listen on; unset means every interface's default.
    pub ip: Option<IpAddr>,
    /// `--port`: the port to listen on (5050).
    pub port: u16,
    /// `--hostname`: the hostname to advertise; unset means looked up (see
    /// [`MasterFlags::hostname_lookup`]).
    pub hostname: Option<String>,
    /// `--hostname_lookup`: whether to resolve the hostname when `--hostname` is unset
    /// (true); false advertises the IP address instead.
    pub hostname_lookup: bool,
    /// `--advertise_ip`: the address others should use to reach this master.
    pub advertise_ip: Option<IpAddr>,
    /// `--advertise_port`: the port others should use to reach this master.
    pub advertise_port: Option<u16>,
    /// `--cluster`: a human-readable name for the cluster.
    pub cluster: Option<String>,
    /// `--work_dir`: where the registry is stored; required unless the registry is in
    /// memory.
    pub work_dir: Option<PathBuf>,
    /// `--registry`: where the registry is kept (`replicated_log`).
    pub registry: RegistryKind,
    /// `--quorum`: replicas needed for a registry write; required with `--zk` and a
    /// durable registry, but without effect (the ZooKeeper ensemble replicates it).
    pub quorum: Option<u32>,
    /// `--zk`: the ZooKeeper URL for leader election (`zk://host:port,.../path` or
    /// `file:///path` naming a file that holds one); unset means a standalone master.
    pub zk: Option<String>,
    /// `--zk_session_timeout`: the ZooKeeper session timeout (10secs).
    pub zk_session_timeout: Duration,
    /// `--roles`: the deprecated role whitelist, duplicates dropped; unset means any valid
    /// role may be used. The default role `*` is always allowed.
    pub roles: Option<Vec<String>>,
    /// `--weights`: the deprecated static role weights, in the order given; roles not
    /// listed weigh 1.
    pub weights: Vec<(String, f64)>,
    /// `--allocation_interval`: time between batch allocations (1secs).
    pub allocation_interval: Duration,
    /// `--offer_timeout`: how long an offer stays outstanding before it is rescinded;
    /// unset means offers never time out.
    pub offer_timeout: Option<Duration>,
    /// `--min_allocatable_resources`: alternatives (any one suffices) of resource
    /// quantities (all needed) that an offer must reach (`cpus:0.01|mem:32`).
    pub min_allocatable_resources: Vec<Vec<(String, Scalar)>>,
    /// `--role_sorter`: how roles are ordered for allocation (`drf`).
    pub role_sorter: SorterKind,
    /// `--framework_sorter`: how a role's frameworks are ordered for allocation (`drf`).
    pub framework_sorter: SorterKind,
    /// `--agent_ping_timeout`: how long an agent has to answer a ping (15secs).
    pub agent_ping_timeout: Duration,
    /// `--max_agent_ping_timeouts`: unanswered pings before an agent is unreachable (5).
    pub max_agent_ping_timeouts: u32,
    /// `--agent_reregister_timeout`: how long a disconnected agent has to reregister
    /// before it is marked unreachable (10mins, the least allowed).
    pub agent_reregister_timeout: Duration,
    /// `--max_completed_frameworks`: completed frameworks kept in memory (50).
    pub max_completed_frameworks: usize,
    /// `--max_completed_tasks_per_framework`: completed tasks kept per framework (1000).
    pub max_completed_tasks_per_framework: usize,
    /// `--max_unreachable_tasks_per_framework`: unreachable tasks kept per framework
    /// (1000).
    pub max_unreachable_tasks_per_framework: usize,
    /// `--registry_max_agent_age`: how long the registry remembers an unreachable or gone
    /// agent (2weeks).
    pub registry_max_agent_age: Duration,
    /// `--registry_max_agent_count`: how many unreachable or gone agents the registry
    /// remembers (102400).
    pub registry_max_agent_count: usize,
    /// `--logging_level`: the least severe level logged (`INFO`).
    pub logging_level: LoggingLevel,
    /// `--quiet`: no logging to stderr (false).
    pub quiet: bool,
}

/// The command line as clap reads it; value-level checks happen here, checks across flags
/// in [`MasterFlags::from_raw`].
#[derive(Debug, Parser)]
#[command(
    name = "mesos-master",
    about = "The Apache Mesos master (a Rust reimplementation, wire-compatible with Mesos 1.11).",
    long_about = None,
    rename_all = "snake_case",
    disable_help_flag = true,
    disable_version_flag = true,
    color = ColorChoice::Never,
    after_help = "Every flag can also be set through the environment variable \
                  MESOS_<FLAG NAME IN UPPER CASE>, e.g. MESOS_PORT=5050; a flag on the \
                  command line wins over the environment.\n\
                  Boolean flags take --NAME, --NAME=true|false or --no-NAME."
)]
struct RawFlags {
    /// IP address to listen on.
    #[arg(long)]
    ip: Option<IpAddr>,

    /// Port to listen on.
    #[arg(long, default_value_t = 5050)]
    port: u16,

    /// Hostname to advertise. When unset it is looked up from the IP address, or the IP
    /// address itself is used with --no-hostname_lookup.
    #[arg(long)]
    hostname: Option<String>,

    /// Whether to look the hostname up when --hostname is not given.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = true, default_missing_value = "true")]
    hostname_lookup: bool,

    /// IP address advertised to reach this master; the master does not bind to it.
    #[arg(long)]
    advertise_ip: Option<IpAddr>,

    /// Port advertised to reach this master, with --advertise_ip; the master does not bind
    /// to it.
    #[arg(long)]
    advertise_port: Option<u16>,

    /// Human-readable name of the cluster, shown in the web UI.
    #[arg(long)]
    cluster: Option<String>,

    /// Directory of the master's persistent state (the registry), e.g.
    /// /var/lib/mesos/master. Required unless --registry=in_memory.
    #[arg(long)]
    work_dir: Option<PathBuf>,

    /// Where the registry is kept: replicated_log (durable: with --zk in the ZooKeeper
    /// ensemble under <zk path>/registry, shared by all masters; without --zk under
    /// --work_dir) or in_memory (lost on exit; for testing).
    #[arg(long, value_enum, default_value = "replicated_log")]
    registry: RegistryKind,

    /// Number of replicas a registry write needs; a majority of the masters. Required with
    /// --zk and the replicated_log registry, as Mesos requires it, but without effect here:
    /// the registry lives in the ZooKeeper ensemble, whose own quorum replicates it.
    #[arg(long)]
    quorum: Option<u32>,

    /// ZooKeeper URL for leader election: zk://host1:port1,host2:port2,.../path,
    /// zk://user:password@host1:port1,.../path, or file:///path/to/file holding one of
    /// those. Not needed for a standalone master.
    #[arg(long, value_parser = parse_zk)]
    zk: Option<String>,

    /// ZooKeeper session timeout.
    #[arg(long, default_value_t = Duration::from_secs(10))]
    zk_session_timeout: Duration,

    /// Deprecated. Comma-separated list of the roles frameworks may use; when unset any
    /// role may be used.
    #[arg(long, value_parser = parse_roles)]
    roles: Option<RoleList>,

    /// Deprecated (use the /weights endpoint). Comma-separated role weights,
    /// role1=weight1,role2=weight2; weights are positive numbers.
    #[arg(long, value_parser = parse_weights)]
    weights: Option<WeightList>,

    /// Time between batch allocations, e.g. 500ms or 1secs.
    #[arg(long, default_value_t = Duration::from_secs(1))]
    allocation_interval: Duration,

    /// Time after which an unused offer is rescinded; when unset offers do not time out.
    #[arg(long)]
    offer_timeout: Option<Duration>,

    /// Minimum resources worth offering: alternatives separated by '|', each a
    /// ';'-separated list of name:quantity that must all be met, e.g.
    /// disk:1|cpus:1;mem:32.
    #[arg(long, value_parser = parse_min_allocatable_resources,
          default_value = "cpus:0.01|mem:32")]
    min_allocatable_resources: QuantityAlternatives,

    /// How roles are ordered for allocation: drf or random.
    #[arg(long, value_enum, alias = "user_sorter", default_value = "drf")]
    role_sorter: SorterKind,

    /// How the frameworks of a role are ordered for allocation: drf or random.
    #[arg(long, value_enum, default_value = "drf")]
    framework_sorter: SorterKind,

    /// Time within which an agent must answer a ping from the master; between 1secs and
    /// 15mins.
    #[arg(long, alias = "slave_ping_timeout", default_value_t = Duration::from_secs(15))]
    agent_ping_timeout: Duration,

    /// Number of unanswered pings after which an agent is marked unreachable; at least 1.
    #[arg(long, alias = "max_slave_ping_timeouts", default_value_t = 5)]
    max_agent_ping_timeouts: u32,

    /// Time within which a disconnected agent must reregister before it is marked
    /// unreachable; at least 10mins.
    #[arg(long, alias = "slave_reregister_timeout",
          default_value_t = MIN_AGENT_REREGISTER_TIMEOUT)]
    agent_reregister_timeout: Duration,

    /// Maximum number of completed frameworks kept in memory.
    #[arg(long, default_value_t = 50)]
    max_completed_frameworks: usize,

    /// Maximum number of completed tasks kept in memory per framework.
    #[arg(long, default_value_t = 1000)]
    max_completed_tasks_per_framework: usize,

    /// Maximum number of unreachable tasks kept in memory per framework.
    #[arg(long, default_value_t = 1000)]
    max_unreachable_tasks_per_framework: usize,

    /// How long the registry keeps information about unreachable or gone agents.
    #[arg(long, default_value_t = Duration::from_secs(14 * 24 * 60 * 60))]
    registry_max_agent_age: Duration,

    /// Maximum number of unreachable or gone agents the registry keeps information about.
    #[arg(long, default_value_t = 102_400)]
    registry_max_agent_count: usize,

    /// Log messages at or above this level: INFO, WARNING or ERROR.
    #[arg(long, value_enum, default_value = "INFO")]
    logging_level: LoggingLevel,

    /// Disable logging to stderr.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = false, default_missing_value = "true")]
    quiet: bool,
}

/// `--roles`, parsed.
#[derive(Debug, Clone)]
struct RoleList(Vec<String>);

/// `--weights`, parsed.
#[derive(Debug, Clone)]
struct WeightList(Vec<(String, f64)>);

/// `--min_allocatable_resources`, parsed.
#[derive(Debug, Clone)]
struct QuantityAlternatives(Vec<Vec<(String, Scalar)>>);

/// A comma-separated list of valid role names; empty items are skipped and duplicates
/// dropped, as Mesos does.
fn parse_roles(text: &str) -> Result<RoleList, String> {
    let mut roles: Vec<String> = Vec::new();
    for role in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        validate_role(role).map_err(|e| format!("invalid role '{role}': {e}"))?;
        if !roles.iter().any(|known| known == role) {
            roles.push(role.to_string());
        }
    }
    Ok(RoleList(roles))
}

/// `role=weight` pairs separated by commas; every role valid and listed once, every
/// weight a positive finite number.
fn parse_weights(text: &str) -> Result<WeightList, String> {
    let mut weights: Vec<(String, f64)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (role, weight) = pair
            .split_once('=')
            .filter(|(_, weight)| !weight.contains('='))
            .ok_or_else(|| format!("invalid weight '{pair}': expected role=weight"))?;
        validate_role(role).map_err(|e| format!("invalid weight '{pair}': {e}"))?;
        let weight: f64 = weight
            .trim()
            .parse()
            .ok()
            .filter(|w: &f64| w.is_finite() && *w > 0.0)
            .ok_or_else(|| {
                format!("invalid weight '{pair}': '{weight}' is not a positive number")
            })?;
        if weights.iter().any(|(known, _)| known == role) {
            return Err(format!("role '{role}' is given more than one weight"));
        }
        weights.push((role.to_string(), weight));
    }
    Ok(WeightList(weights))
}

/// `name:quantity` items separated by `;`, alternatives separated by `|`; quantities are
/// non-negative numbers and a name given twice in one alternative adds up.
fn parse_min_allocatable_resources(text: &str) -> Result<QuantityAlternatives, String> {
    let mut alternatives = Vec::new();
    for alternative in text.split('|').map(str::trim).filter(|a| !a.is_empty()) {
        let mut quantities: Vec<(String, Scalar)> = Vec::new();
        for item in alternative
            .split(';')
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let (name, quantity) = item
                .split_once(':')
                .map(|(name, quantity)| (name.trim(), quantity.trim()))
                .filter(|(name, quantity)| !name.is_empty() && !quantity.contains(':'))
                .ok_or_else(|| format!("invalid quantity '{item}': expected name:quantity"))?;
            let quantity: Scalar = quantity
                .parse()
                .map_err(|e| format!("invalid quantity '{item}': {e}"))?;
            if quantity < Scalar::ZERO {
                return Err(format!("invalid quantity '{item}': it is negative"));
            }
            match quantities.iter_mut().find(|(known, _)| known == name) {
                Some((_, total)) => *total += quantity,
                None => quantities.push((name.to_string(), quantity)),
            }
        }
        alternatives.push(quantities);
    }
    Ok(QuantityAlternatives(alternatives))
}

/// A `zk://` URL with hosts and a path, or a `file://` URL naming a file that holds one.
fn parse_zk(text: &str) -> Result<String, String> {
    crate::ha::ZkUrl::parse(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

impl MasterFlags {
    /// The [`MasterOptions`](super::MasterOptions) these flags describe: where to bind
    /// (`--ip`, default 0.0.0.0, `--port`), what to advertise, the registry store and
    /// every setting of the state machine; `/flags` shows [`MasterFlags::to_map`].
    pub fn to_options(&self) -> super::MasterOptions {
        let ip = self
            .ip
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let advertise = match (self.advertise_ip, self.advertise_port) {
            (None, None) => None,
            (ip_, port) => Some(std::net::SocketAddr::new(
                ip_.unwrap_or(ip),
                port.unwrap_or(self.port),
            )),
        };
        let zk = self
            .zk
            .as_deref()
            .and_then(|url| crate::ha::ZkUrl::parse(url).ok());
        super::MasterOptions {
            bind: std::net::SocketAddr::new(ip, self.port),
            hostname: self.hostname.clone(),
            advertise,
            cluster: self.cluster.clone(),
            registry: match (&self.registry, &zk, &self.work_dir) {
                (RegistryKind::ReplicatedLog, Some(url), _) => {
                    super::RegistryStore::ZooKeeper(url.clone())
                }
                (RegistryKind::ReplicatedLog, None, Some(dir)) => {
                    super::RegistryStore::WorkDir(dir.clone())
                }
                _ => super::RegistryStore::InMemory,
            },
            roles: self.roles.clone(),
            weights: self.weights.clone(),
            allocation_interval: self.allocation_interval.as_std(),
            offer_timeout: self.offer_timeout.map(Duration::as_std),
            agent_ping_timeout: self.agent_ping_timeout.as_std(),
            max_agent_ping_timeouts: self.max_agent_ping_timeouts,
            agent_reregister_timeout: self.agent_reregister_timeout.as_std(),
            max_completed_frameworks: self.max_completed_frameworks,
            max_completed_tasks_per_framework: self.max_completed_tasks_per_framework,
            min_allocatable_resources: self
                .min_allocatable_resources
                .iter()
                .map(|set| {
                    set.iter()
                        .map(|(name, amount)| (name.clone(), amount.as_f64()))
                        .collect()
                })
                .collect(),
            heartbeat_interval: std::time::Duration::from_secs(15),
            zk,
            zk_session_timeout: self.zk_session_timeout.as_std(),
            flags: self.to_map(),
        }
    }

    /// Reads the flags from `args` (starting with the program name, as
    /// `std::env::args_os()` does) and from the process' `MESOS_*` environment variables.
    pub fn parse_from<I, T>(args: I) -> Result<MasterFlags, FlagsError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        MasterFlags::parse_from_with_env(args, |name| std::env::var(name).ok())
    }

    /// Reads the flags from `args` (starting with the program name) and from the
    /// environment `env` describes: `env("MESOS_PORT")` is the value of `MESOS_PORT`, if
    /// set. Deprecated flag names (e.g. `slave_ping_timeout`) are read from both sources
    /// too.
    pub fn parse_from_with_env<I, T, E>(args: I, env: E) -> Result<MasterFlags, FlagsError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
        E: Fn(&str) -> Option<String>,
    {
        let raw: RawFlags = cli::parse(args, env)?;
        MasterFlags::from_raw(raw)
    }

    /// Applies Mesos' checks across flags and within ranges.
    fn from_raw(raw: RawFlags) -> Result<MasterFlags, FlagsError> {
        let invalid = |message: String| Err(FlagsError::Invalid(message));
        if raw.registry == RegistryKind::ReplicatedLog {
            if raw.work_dir.is_none() {
                return invalid(
                    "--work_dir is required for the replicated_log registry (the default); \
                     give --work_dir=<path>, or --registry=in_memory for a master that \
                     forgets its state on exit"
                        .to_string(),
                );
            }
            if raw.zk.is_some() && raw.quorum.is_none() {
                return invalid(
                    "--quorum is required with --zk for the replicated_log registry".to_string(),
                );
            }
        }
        let (shortest, longest) = AGENT_PING_TIMEOUT_RANGE;
        if raw.agent_ping_timeout < shortest || raw.agent_ping_timeout > longest {
            return invalid(format!(
                "--agent_ping_timeout={} is out of range: it must be between {shortest} and \
                 {longest}",
                raw.agent_ping_timeout
            ));
        }
        if raw.max_agent_ping_timeouts < 1 {
            return invalid("--max_agent_ping_timeouts must be at least 1".to_string());
        }
        if raw.agent_reregister_timeout < MIN_AGENT_REREGISTER_TIMEOUT {
            return invalid(format!(
                "--agent_reregister_timeout={} is too short: it must be at least \
                 {MIN_AGENT_REREGISTER_TIMEOUT}",
                raw.agent_reregister_timeout
            ));
        }
        let roles = raw.roles.map(|RoleList(roles)| roles);
        let weights = raw.weights.map(|WeightList(w)| w).unwrap_or_default();
        if let Some(whitelist) = &roles {
            let allowed = |role: &str| role == "*" || whitelist.iter().any(|r| r == role);
            if let Some((role, _)) = weights.iter().find(|(role, _)| !allowed(role)) {
                return invalid(format!(
                    "--weights names role '{role}', which is not in --roles"
                ));
            }
        }
        Ok(MasterFlags {
            ip: raw.ip,
            port: raw.port,
            hostname: raw.hostname,
            hostname_lookup: raw.hostname_lookup,
            advertise_ip: raw.advertise_ip,
            advertise_port: raw.advertise_port,
            cluster: raw.cluster,
            work_dir: raw.work_dir,
            registry: raw.registry,
            quorum: raw.quorum,
            zk: raw.zk,
            zk_session_timeout: raw.zk_session_timeout,
            roles,
            weights,
            allocation_interval: raw.allocation_interval,
            offer_timeout: raw.offer_timeout,
            min_allocatable_resources: raw.min_allocatable_resources.0,
            role_sorter: raw.role_sorter,
            framework_sorter: raw.framework_sorter,
            agent_ping_timeout: raw.agent_ping_timeout,
            max_agent_ping_timeouts: raw.max_agent_ping_timeouts,
            agent_reregister_timeout: raw.agent_reregister_timeout,
            max_completed_frameworks: raw.max_completed_frameworks,
            max_completed_tasks_per_framework: raw.max_completed_tasks_per_framework,
            max_unreachable_tasks_per_framework: raw.max_unreachable_tasks_per_framework,
            registry_max_agent_age: raw.registry_max_agent_age,
            registry_max_agent_count: raw.registry_max_agent_count,
            logging_level: raw.logging_level,
            quiet: raw.quiet,
        })
    }

    /// Every flag by name, valued as Mesos' `/flags` endpoint and `GET_FLAGS` show it:
    /// durations like `15secs`, booleans `true`/`false`, lists in their flag syntax, and
    /// optional flags left out when unset. `help` and `version` are listed as `false`, as
    /// Mesos lists them for a running master.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let weights: Vec<String> = self
            .weights
            .iter()
            .map(|(role, weight)| format!("{role}={weight}"))
            .collect();
        let alternatives: Vec<String> = self
            .min_allocatable_resources
            .iter()
            .map(|quantities| {
                let items: Vec<String> = quantities
                    .iter()
                    .map(|(name, quantity)| format!("{name}:{quantity}"))
                    .collect();
                items.join(";")
            })
            .collect();
        let optional = [
            ("ip", self.ip.map(|ip| ip.to_string())),
            ("hostname", self.hostname.clone()),
            ("advertise_ip", self.advertise_ip.map(|ip| ip.to_string())),
            ("advertise_port", self.advertise_port.map(|p| p.to_string())),
            ("cluster", self.cluster.clone()),
            (
                "work_dir",
                self.work_dir.as_ref().map(|d| d.display().to_string()),
            ),
            ("quorum", self.quorum.map(|q| q.to_string())),
            ("zk", self.zk.clone()),
            ("roles", self.roles.as_ref().map(|roles| roles.join(","))),
            ("weights", (!weights.is_empty()).then(|| weights.join(","))),
            ("offer_timeout", self.offer_timeout.map(|t| t.to_string())),
        ];
        let always = [
            ("port", self.port.to_string()),
            ("hostname_lookup", self.hostname_lookup.to_string()),
            ("registry", self.registry.to_string()),
            ("zk_session_timeout", self.zk_session_timeout.to_string()),
            ("allocation_interval", self.allocation_interval.to_string()),
            ("min_allocatable_resources", alternatives.join("|")),
            ("role_sorter", self.role_sorter.to_string()),
            ("framework_sorter", self.framework_sorter.to_string()),
            ("agent_ping_timeout", self.agent_ping_timeout.to_string()),
            (
                "max_agent_ping_timeouts",
                self.max_agent_ping_timeouts.to_string(),
            ),
            (
                "agent_reregister_timeout",
                self.agent_reregister_timeout.to_string(),
            ),
            (
                "max_completed_frameworks",
                self.max_completed_frameworks.to_string(),
            ),
            (
                "max_completed_tasks_per_framework",
                self.max_completed_tasks_per_framework.to_string(),
            ),
            (
                "max_unreachable_tasks_per_framework",
                self.max_unreachable_tasks_per_framework.to_string(),
            ),
            (
                "registry_max_agent_age",
                self.registry_max_agent_age.to_string(),
            ),
            (
                "registry_max_agent_count",
                self.registry_max_agent_count.to_string(),
            ),
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

    use std::path::Path;

    /// Parses `args` (without the program name) with the environment `env`.
    fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Result<MasterFlags, FlagsError> {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MasterFlags::parse_from_with_env(
            std::iter::once("mesos-master").chain(args.iter().copied()),
            |name| env.get(name).cloned(),
        )
    }

    /// Parses `args` with an empty environment.
    fn parse(args: &[&str]) -> Result<MasterFlags, FlagsError> {
        parse_env(args, &[])
    }

    /// The message of an `Invalid` error; panics on anything else.
    fn invalid(result: Result<MasterFlags, FlagsError>) -> String {
        match result {
            Err(FlagsError::Invalid(message)) => message,
            other => panic!("expected an invalid-flags error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_mesos_defaults() {
        let flags = parse(&["--work_dir=/var/lib/mesos/master"]).unwrap();
        assert_eq!(flags.port, 5050);
        assert_eq!(flags.registry, RegistryKind::ReplicatedLog);
        assert_eq!(flags.allocation_interval, Duration::from_secs(1));
        assert_eq!(flags.agent_ping_timeout, Duration::from_secs(15));
        assert_eq!(flags.max_agent_ping_timeouts, 5);
        assert_eq!(flags.agent_reregister_timeout, Duration::from_secs(600));
        assert_eq!(flags.zk_session_timeout, Duration::from_secs(10));
        assert_eq!(
            flags.registry_max_agent_age,
            Duration::from_secs(14 * 86_400)
        );
        assert_eq!(flags.registry_max_agent_count, 102_400);
        assert_eq!(flags.max_completed_frameworks, 50);
        assert_eq!(flags.max_completed_tasks_per_framework, 1000);
        assert_eq!(flags.max_unreachable_tasks_per_framework, 1000);
        assert_eq!(flags.offer_timeout, None);
        assert_eq!(flags.roles, None);
        assert!(flags.weights.is_empty());
        assert_eq!(flags.logging_level, LoggingLevel::Info);
        assert!(!flags.quiet);
        assert!(flags.hostname_lookup);
        assert_eq!(flags.role_sorter, SorterKind::Drf);
        assert_eq!(flags.framework_sorter, SorterKind::Drf);
        assert_eq!(
            flags.min_allocatable_resources,
            vec![
                vec![("cpus".to_string(), Scalar::from_millis(10))],
                vec![("mem".to_string(), Scalar::from_units(32))],
            ]
        );
    }

    /// Every flag we show, shown as the real master showed it (the fixture's master ran
    /// with `--ip`, `--cluster`, `--registry` and `--work_dir` set, the rest defaulted).
    #[test]
    fn to_map_matches_the_apache_mesos_fixture() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/apache-mesos/master/flags.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("SKIPPED: no Apache Mesos fixture at {}", path.display());
            return;
        };
        let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
        let fixture = fixture["flags"].as_object().unwrap();
        let flags = parse(&[
            "--ip=127.0.0.1",
            "--cluster=fixtures",
            "--registry=in_memory",
            "--work_dir=/var/lib/mesos/master",
        ])
        .unwrap();
        let map = flags.to_map();
        for (name, value) in &map {
            let expected = fixture.get(name).and_then(|v| v.as_str());
            assert_eq!(expected, Some(value.as_str()), "flag {name}");
        }
        assert!(map.len() >= 20, "only {} flags compared", map.len());
    }

    #[test]
    fn to_map_leaves_unset_optional_flags_out_and_shows_set_ones() {
        let map = parse(&["--registry=in_memory"]).unwrap().to_map();
        for name in [
            "ip",
            "hostname",
            "work_dir",
            "zk",
            "quorum",
            "offer_timeout",
        ] {
            assert!(!map.contains_key(name), "{name} shown while unset");
        }
        let map = parse(&[
            "--registry=in_memory",
            "--offer_timeout=90secs",
            "--roles=a,b",
            "--weights=a=2,b=0.5",
            "--min_allocatable_resources=disk:1|cpus:1;mem:32",
            "--advertise_port=8080",
        ])
        .unwrap()
        .to_map();
        assert_eq!(map["offer_timeout"], "90secs");
        assert_eq!(map["roles"], "a,b");
        assert_eq!(map["weights"], "a=2,b=0.5");
        assert_eq!(map["min_allocatable_resources"], "disk:1|cpus:1;mem:32");
        assert_eq!(map["advertise_port"], "8080");
    }

    #[test]
    fn environment_variables_set_flags() {
        let flags = parse_env(
            &[],
            &[
                ("MESOS_WORK_DIR", "/tmp/master"),
                ("MESOS_PORT", "5051"),
                ("MESOS_ALLOCATION_INTERVAL", "500ms"),
                ("MESOS_QUIET", "true"),
                ("MESOS_SLAVE_PING_TIMEOUT", "30secs"),
            ],
        )
        .unwrap();
        assert_eq!(flags.work_dir.as_deref(), Some(Path::new("/tmp/master")));
        assert_eq!(flags.port, 5051);
        assert_eq!(flags.allocation_interval, Duration::from_millis(500));
        assert!(flags.quiet);
        assert_eq!(flags.agent_ping_timeout, Duration::from_secs(30));
    }

    #[test]
    fn command_line_beats_environment() {
        let flags = parse_env(
            &[
                "--port=6060",
                "--no-quiet",
                "--agent_ping_timeout",
                "20secs",
            ],
            &[
                ("MESOS_REGISTRY", "in_memory"),
                ("MESOS_PORT", "5051"),
                ("MESOS_QUIET", "true"),
                ("MESOS_AGENT_PING_TIMEOUT", "not a duration"),
            ],
        )
        .unwrap();
        assert_eq!(flags.registry, RegistryKind::InMemory);
        assert_eq!(flags.port, 6060);
        assert!(!flags.quiet);
        assert_eq!(flags.agent_ping_timeout, Duration::from_secs(20));
    }

    #[test]
    fn booleans_take_mesos_forms() {
        let base = ["--registry=in_memory"];
        let quiet = |extra: &str| {
            let mut args = base.to_vec();
            args.push(extra);
            parse(&args).unwrap().quiet
        };
        assert!(quiet("--quiet"));
        assert!(quiet("--quiet=true"));
        assert!(!quiet("--quiet=false"));
        assert!(!quiet("--no-quiet"));
        let flags = parse(&["--registry=in_memory", "--no-hostname_lookup"]).unwrap();
        assert!(!flags.hostname_lookup);
        assert!(invalid(parse(&["--registry=in_memory", "--quiet=maybe"])).contains("--quiet"));
        assert!(invalid(parse(&["--registry=in_memory", "--no-port"])).contains("--no-port"));
    }

    #[test]
    fn bad_duration_names_the_flag() {
        let message = invalid(parse(&[
            "--registry=in_memory",
            "--allocation_interval=1sec",
        ]));
        assert!(message.contains("--allocation_interval"), "{message}");
        assert!(message.contains("1sec"), "{message}");
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let message = invalid(parse_env(
            &["--registry=in_memory"],
            &[("MESOS_OFFER_TIMEOUT", "soon")],
        ));
        assert!(message.contains("MESOS_OFFER_TIMEOUT"), "{message}");
    }

    #[test]
    fn weights_are_checked() {
        let flags = parse(&["--registry=in_memory", "--weights=a=2.5,b/c=1"]).unwrap();
        assert_eq!(
            flags.weights,
            vec![("a".to_string(), 2.5), ("b/c".to_string(), 1.0)]
        );
        for bad in [
            "a=0", "a=-1", "a=x", "a", "a=1=2", "a=inf", "a=NaN", ".=1", "a=1,a=2",
        ] {
            let message = invalid(parse(&[
                "--registry=in_memory",
                &format!("--weights={bad}"),
            ]));
            assert!(message.contains("--weights"), "{bad}: {message}");
        }
        let message = invalid(parse(&[
            "--registry=in_memory",
            "--roles=a",
            "--weights=b=2",
        ]));
        assert!(message.contains("'b'"), "{message}");
        assert!(parse(&["--registry=in_memory", "--roles=a", "--weights=a=2,*=1"]).is_ok());
    }

    #[test]
    fn roles_are_checked_and_deduplicated() {
        let flags = parse(&["--registry=in_memory", "--roles=a,b/c,a,"]).unwrap();
        assert_eq!(flags.roles, Some(vec!["a".to_string(), "b/c".to_string()]));
        let message = invalid(parse(&["--registry=in_memory", "--roles=a,-b"]));
        assert!(message.contains("--roles"), "{message}");
    }

    #[test]
    fn unknown_flag_is_rejected() {
        let message = invalid(parse(&["--registry=in_memory", "--no_such_flag=1"]));
        assert!(message.contains("--no_such_flag"), "{message}");
    }

    #[test]
    fn duplicate_flag_is_rejected() {
        let message = invalid(parse(&["--registry=in_memory", "--port=1", "--port=2"]));
        assert!(message.contains("--port"), "{message}");
    }

    #[test]
    fn work_dir_is_required_for_the_replicated_log() {
        let message = invalid(parse(&[]));
        assert!(message.contains("--work_dir"), "{message}");
        assert!(parse(&["--registry=in_memory"]).is_ok());
        let message = invalid(parse(&["--registry=zookeeper"]));
        assert!(message.contains("--registry"), "{message}");
    }

    #[test]
    fn with_zk_the_replicated_log_registry_lives_in_zookeeper() {
        let zk = "--zk=zk://localhost:2181/mesos";
        let options = parse(&["--work_dir=/tmp/m", zk, "--quorum=2"])
            .unwrap()
            .to_options();
        let url = crate::ha::ZkUrl::parse("zk://localhost:2181/mesos").unwrap();
        assert_eq!(
            options.registry,
            super::super::RegistryStore::ZooKeeper(url)
        );
        let options = parse(&["--registry=in_memory", zk]).unwrap().to_options();
        assert_eq!(options.registry, super::super::RegistryStore::InMemory);
        let options = parse(&["--work_dir=/tmp/m"]).unwrap().to_options();
        assert_eq!(
            options.registry,
            super::super::RegistryStore::WorkDir("/tmp/m".into())
        );
    }

    #[test]
    fn quorum_is_required_with_zk() {
        let args = ["--work_dir=/tmp/m", "--zk=zk://localhost:2181/mesos"];
        assert!(invalid(parse(&args)).contains("--quorum"));
        let flags = parse(&[args[0], args[1], "--quorum=2"]).unwrap();
        assert_eq!(flags.quorum, Some(2));
        assert!(parse(&["--registry=in_memory", "--zk=zk://localhost:2181/mesos"]).is_ok());
        for bad in [
            "localhost:2181",
            "zk://localhost:2181",
            "zk:///mesos",
            "file://",
        ] {
            let message = invalid(parse(&["--registry=in_memory", &format!("--zk={bad}")]));
            assert!(message.contains("--zk"), "{bad}: {message}");
        }
    }

    #[test]
    fn timeouts_are_range_checked_as_mesos_does() {
        let m = "--registry=in_memory";
        assert!(invalid(parse(&[m, "--agent_reregister_timeout=9mins"]))
            .contains("--agent_reregister_timeout"));
        assert!(parse(&[m, "--agent_reregister_timeout=1hrs"]).is_ok());
        assert!(invalid(parse(&[m, "--agent_ping_timeout=500ms"])).contains("--agent_ping_timeout"));
        assert!(
            invalid(parse(&[m, "--agent_ping_timeout=16mins"])).contains("--agent_ping_timeout")
        );
        assert!(invalid(parse(&[m, "--max_agent_ping_timeouts=0"]))
            .contains("--max_agent_ping_timeouts"));
    }

    #[test]
    fn min_allocatable_resources_are_checked() {
        let flags = parse(&[
            "--registry=in_memory",
            "--min_allocatable_resources=cpus:1;cpus:0.5;mem:32|disk:64",
        ])
        .unwrap();
        assert_eq!(
            flags.min_allocatable_resources,
            vec![
                vec![
                    ("cpus".to_string(), Scalar::from_millis(1500)),
                    ("mem".to_string(), Scalar::from_units(32)),
                ],
                vec![("disk".to_string(), Scalar::from_units(64))],
            ]
        );
        for bad in ["cpus", "cpus:-1", "cpus:x", ":1", "cpus:1:2"] {
            let message = invalid(parse(&[
                "--registry=in_memory",
                &format!("--min_allocatable_resources={bad}"),
            ]));
            assert!(
                message.contains("--min_allocatable_resources"),
                "{bad}: {message}"
            );
        }
    }

    #[test]
    fn enums_take_mesos_spellings() {
        let flags = parse(&[
            "--registry=in_memory",
            "--logging_level=WARNING",
            "--role_sorter=random",
            "--framework_sorter=random",
        ])
        .unwrap();
        assert_eq!(flags.logging_level, LoggingLevel::Warning);
        assert_eq!(flags.role_sorter, SorterKind::Random);
        assert_eq!(flags.framework_sorter, SorterKind::Random);
        assert!(
            invalid(parse(&["--registry=in_memory", "--logging_level=debug"]))
                .contains("--logging_level")
        );
    }

    #[test]
    fn help_lists_every_flag_with_its_default() {
        let Err(FlagsError::Help(text)) = parse(&["--help"]) else {
            panic!("--help did not answer with help");
        };
        assert!(text.contains("--allocation_interval"), "{text}");
        assert!(text.contains("[default: 1secs]"), "{text}");
        assert!(text.contains("MESOS_"), "{text}");
        for name in parse(&["--registry=in_memory"]).unwrap().to_map().keys() {
            assert!(
                text.contains(&format!("--{name}")),
                "--{name} missing from help"
            );
        }
    }

    #[test]
    fn version_answers_with_the_mesos_version() {
        let Err(FlagsError::Version(text)) = parse(&["--version"]) else {
            panic!("--version did not answer with the version");
        };
        assert!(text.contains(crate::MESOS_WIRE_VERSION), "{text}");
    }
}
