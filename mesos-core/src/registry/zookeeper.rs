//! The registry in ZooKeeper: with `--zk` and `--registry=replicated_log` the ensemble is
//! the replicated store, as Apache Mesos' replicated log is for its masters.
//!
//! Layout under `<zk path>/registry` (the *manifest* node):
//!
//! - the manifest's data is JSON naming a `generation` and, for each *shard*, the chunk
//!   nodes that hold it, their total length and CRC-32. Shard 0 holds the global state
//!   (the last leader's MasterInfo, weights, quotas, the maintenance schedule); shards
//!   1..=K hold the agents (admitted, unreachable, gone) whose id hashes there, so that a
//!   write rewrites only the shards it changes, not 50,000 agents;
//! - each shard is a `mesos.internal.Registry` message split into chunk nodes
//!   `s<shard>-g<generation>-<writer>-<index>` of at most
//!   [`ZkRegistryOptions::chunk_bytes`] (ZooKeeper refuses nodes near 1 MiB). Chunks are
//!   created once and never changed; `<writer>` is random per registry instance, so two
//!   writers never name the same chunk.
//!
//! A write creates the new chunks of the shards it changes, switches the manifest with a
//! `set_data` conditioned on the manifest version this registry last read or wrote, and
//! deletes the chunks no longer named. When the new chunks fit in one request (a
//! single-agent change always does) the three are one `multi` transaction: all or
//! nothing. A larger write (a bulk admission, say) takes two steps: the chunks first, then
//! the switch; a crash between them leaves unnamed chunks (deleted at the next recovery)
//! and the old state. Either way a reader never sees a mix.
//!
//! Recovery reads the manifest and its chunks and then *claims* the registry: it rewrites
//! the manifest (a new generation) conditioned on the version it read. From then on a
//! registry that read an older version, a deposed leader's, fails every write with
//! [`RegistryError::Superseded`] and never overwrites: the master stops leading on it.
//!
//! The registry trait is synchronous and the ZooKeeper client asynchronous: each
//! [`ZkRegistry`] runs its client on a private one-thread runtime, and its callers wait for
//! the answer (under `block_in_place` when called from a multi-threaded Tokio runtime, so
//! the caller's worker is not lost to other tasks). Every request is bounded by
//! [`ZkRegistryOptions::operation_timeout`]: an unreachable ensemble is an error, not a
//! hang.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::time::Duration;

use prost::Message;
use serde::{Deserialize, Serialize};
use zookeeper_client as zk;

use super::{operation, Operation, Registry, RegistryError, RegistryState};
use crate::ha::ZkUrl;
use crate::proto::mesos::internal::Registry as RegistryProto;

/// The name of the manifest node under the `--zk` path.
pub const REGISTRY_NODE: &str = "registry";

/// The `format` of the manifests this code writes and reads.
const FORMAT: &str = "mesos-rs/registry/1";

/// The most shards a manifest may name (more means it was not written by us).
const MAX_SHARDS: usize = 1 << 16;

/// The most chunk bytes written in one `multi` transaction: with the manifest and the
/// paths it stays well under ZooKeeper's request limit (`jute.maxbuffer`, 1 MiB).
const MULTI_BYTES: usize = 768 << 10;

/// The most operations in one `multi` transaction.
const MULTI_OPERATIONS: usize = 1000;

/// How many times recovery starts over when another writer changes the registry while it
/// reads.
const RECOVER_ATTEMPTS: u32 = 5;

/// Tuning of a [`ZkRegistry`].
#[derive(Debug, Clone)]
pub struct ZkRegistryOptions {
    /// The session timeout of the registry's own ZooKeeper session (`--zk_session_timeout`).
    pub session_timeout: Duration,
    /// How long one request to ZooKeeper (connecting included) may take before it fails.
    pub operation_timeout: Duration,
    /// Agent shards of a registry created by this instance (an existing registry keeps the
    /// count its manifest names).
    pub agent_shards: u32,
    /// The largest chunk node written, in bytes; ZooKeeper's limit is just under 1 MiB.
    pub chunk_bytes: usize,
}

impl Default for ZkRegistryOptions {
    /// Mesos' default session timeout (10 s), 10 s per request, 256 agent shards (about 200
    /// agents, 35 KB, each at 50,000 agents: a single-agent write rewrites that much), 512
    /// KiB chunks.
    fn default() -> Self {
        ZkRegistryOptions {
            session_timeout: crate::ha::DEFAULT_SESSION_TIMEOUT,
            operation_timeout: Duration::from_secs(10),
            agent_shards: 256,
            chunk_bytes: 512 << 10,
        }
    }
}

/// The manifest node's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    /// Always [`FORMAT`].
    format: String,
    /// Raised by every write and claim.
    generation: u64,
    /// Shard 0 is the global state, the others hold agents.
    shards: Vec<ShardRef>,
}

/// Where one shard is stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ShardRef {
    /// The chunk nodes (names under the manifest node), in order.
    chunks: Vec<String>,
    /// The length of the shard's encoding.
    bytes: u64,
    /// CRC-32 of the shard's encoding.
    crc32: u32,
}

impl Manifest {
    fn empty(agent_shards: u32) -> Manifest {
        Manifest {
            format: FORMAT.to_string(),
            generation: 0,
            shards: vec![ShardRef::default(); agent_shards.max(1) as usize + 1],
        }
    }

    fn agent_shards(&self) -> u32 {
        // Checked at decoding: between 1 and MAX_SHARDS.
        u32::try_from(self.shards.len().saturating_sub(1)).unwrap_or(1)
    }

    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The manifest in `data`, or why it is not one this code wrote.
    fn decode(data: &[u8]) -> Result<Manifest, String> {
        let manifest: Manifest =
            serde_json::from_slice(data).map_err(|e| format!("not a registry manifest: {e}"))?;
        if manifest.format != FORMAT {
            return Err(format!(
                "format '{}' is not '{FORMAT}', the one this build reads",
                manifest.format
            ));
        }
        if manifest.shards.len() < 2 || manifest.shards.len() > MAX_SHARDS {
            return Err(format!("it names {} shards", manifest.shards.len()));
        }
        for (index, shard) in manifest.shards.iter().enumerate() {
            if (shard.bytes == 0) != shard.chunks.is_empty() {
                return Err(format!(
                    "shard {index} has {} bytes in {} chunks",
                    shard.bytes,
                    shard.chunks.len()
                ));
            }
            if let Some(bad) = shard
                .chunks
                .iter()
                .find(|name| name.is_empty() || name.contains('/'))
            {
                return Err(format!("shard {index} names an invalid chunk '{bad}'"));
            }
        }
        Ok(manifest)
    }

    fn chunk_names(&self) -> HashSet<&str> {
        self.shards
            .iter()
            .flat_map(|shard| shard.chunks.iter().map(String::as_str))
            .collect()
    }
}

/// The shard that holds agent `id` among `agent_shards` agent shards (1-based; 0 is the
/// global shard).
fn shard_of(id: &str, agent_shards: u32) -> usize {
    1 + (crc32fast::hash(id.as_bytes()) % agent_shards.max(1)) as usize
}

/// The shards `operations` change.
fn affected_shards(operations: &[Operation], agent_shards: u32) -> BTreeSet<usize> {
    let mut shards = BTreeSet::new();
    let agent = |id: &str| shard_of(id, agent_shards);
    for op in operations {
        match op {
            Operation::AdmitAgent(info) | Operation::MarkReachable(info) => {
                if let Some(id) = &info.id {
                    shards.insert(agent(&id.value));
                }
            }
            Operation::RemoveAgent(id)
            | Operation::MarkUnreachable(id, _)
            | Operation::MarkGone(id, _)
            | Operation::DrainAgent(id, _)
            | Operation::MarkAgentDrained(id)
            | Operation::DeactivateAgent(id)
            | Operation::ReactivateAgent(id) => {
                shards.insert(agent(&id.value));
            }
            Operation::Prune { unreachable, gone } => {
                shards.extend(unreachable.iter().chain(gone).map(|id| agent(&id.value)));
            }
            Operation::UpdateWeights(_)
            | Operation::UpdateQuota(_)
            | Operation::UpdateMaintenanceSchedule(_)
            | Operation::UpdateMasterInfo(_) => {
                shards.insert(0);
            }
        }
    }
    shards
}

/// The ids of the agents (admitted, unreachable or gone) in each shard of `state`, by
/// shard index (shard 0, the global one, holds none).
fn members_of(state: &RegistryState, agent_shards: u32) -> Vec<BTreeSet<String>> {
    let mut members = vec![BTreeSet::new(); agent_shards.max(1) as usize + 1];
    let ids = state
        .agents
        .keys()
        .chain(state.unreachable.keys())
        .chain(state.gone.keys());
    for id in ids {
        members[shard_of(id, agent_shards)].insert(id.clone());
    }
    members
}

/// The part of `state` in `shards`: the global fields if shard 0 is among them, and the
/// agents of the agent shards among them (`members` names each shard's agents, so this
/// costs the size of those shards, not of the state). Every operation reads and changes
/// only the shards [`affected_shards`] names, so it validates and applies on this part as
/// on the whole state.
fn part_of(
    state: &RegistryState,
    shards: &BTreeSet<usize>,
    members: &[BTreeSet<String>],
) -> RegistryState {
    let mut part = RegistryState::default();
    if shards.contains(&0) {
        part.master = state.master.clone();
        part.weights = state.weights.clone();
        part.quotas = state.quotas.clone();
        part.maintenance = state.maintenance.clone();
    }
    let ids = shards
        .iter()
        .filter(|&&s| s != 0)
        .filter_map(|&s| members.get(s))
        .flatten();
    for id in ids {
        if let Some(agent) = state.agents.get(id) {
            part.agents.insert(id.clone(), agent.clone());
        }
        if let Some(agent) = state.unreachable.get(id) {
            part.unreachable.insert(id.clone(), agent.clone());
        }
        if let Some(time) = state.gone.get(id) {
            part.gone.insert(id.clone(), *time);
        }
    }
    part
}

/// The encodings of `shards` of `state` (which holds at least those shards), by shard, in
/// one pass over the state.
fn encode_shards(
    state: &RegistryState,
    shards: &BTreeSet<usize>,
    agent_shards: u32,
) -> BTreeMap<usize, Vec<u8>> {
    let mut contents: BTreeMap<usize, RegistryState> = shards
        .iter()
        .map(|&shard| (shard, RegistryState::default()))
        .collect();
    if let Some(global) = contents.get_mut(&0) {
        global.master = state.master.clone();
        global.weights = state.weights.clone();
        global.quotas = state.quotas.clone();
        global.maintenance = state.maintenance.clone();
    }
    let shard = |id: &str| shard_of(id, agent_shards);
    for (id, agent) in &state.agents {
        if let Some(content) = contents.get_mut(&shard(id)) {
            content.agents.insert(id.clone(), agent.clone());
        }
    }
    for (id, agent) in &state.unreachable {
        if let Some(content) = contents.get_mut(&shard(id)) {
            content.unreachable.insert(id.clone(), agent.clone());
        }
    }
    for (id, time) in &state.gone {
        if let Some(content) = contents.get_mut(&shard(id)) {
            content.gone.insert(id.clone(), *time);
        }
    }
    contents
        .into_iter()
        .map(|(shard, content)| (shard, content.to_proto(0).encode_to_vec()))
        .collect()
}

/// Adds shard `index` (encoded in `bytes`) to `state`, checking that it holds only what
/// belongs in it.
fn merge_shard(
    state: &mut RegistryState,
    manifest: &Manifest,
    index: usize,
    bytes: &[u8],
) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let proto = crate::protobuf::decode::<RegistryProto>(bytes).map_err(|e| e.to_string())?;
    let (part, _) = RegistryState::from_proto(proto)?;
    if index == 0 {
        if !(part.agents.is_empty() && part.unreachable.is_empty() && part.gone.is_empty()) {
            return Err("the global shard holds agents".into());
        }
        state.master = part.master;
        state.weights = part.weights;
        state.quotas = part.quotas;
        state.maintenance = part.maintenance;
        return Ok(());
    }
    if part.master.is_some()
        || !part.weights.is_empty()
        || !part.quotas.is_empty()
        || !part.maintenance.windows.is_empty()
    {
        return Err("an agent shard holds global state".into());
    }
    let agent_shards = manifest.agent_shards();
    let ids = part
        .agents
        .keys()
        .chain(part.unreachable.keys())
        .chain(part.gone.keys());
    if let Some(stray) = ids
        .into_iter()
        .find(|id| shard_of(id, agent_shards) != index)
    {
        return Err(format!(
            "agent {stray} belongs in shard {}",
            shard_of(stray, agent_shards)
        ));
    }
    state.agents.extend(part.agents);
    state.unreachable.extend(part.unreachable);
    state.gone.extend(part.gone);
    Ok(())
}

/// Why a registry can write no more.
#[derive(Debug, Clone)]
enum Broken {
    /// Another registry claimed or wrote the registry after this one read it.
    Superseded(String),
    /// A manifest switch failed in a way that leaves its outcome unknown.
    Unknown(String),
}

/// The recovered state and the manifest it was read from.
#[derive(Debug)]
struct Open {
    state: RegistryState,
    manifest: Manifest,
    /// The manifest node's version this registry last read or wrote.
    version: i32,
    /// The agents of each shard (see [`members_of`]).
    members: Vec<BTreeSet<String>>,
}

impl Open {
    fn new(state: RegistryState, manifest: Manifest, version: i32) -> Open {
        let members = members_of(&state, manifest.agent_shards());
        Open {
            state,
            manifest,
            version,
            members,
        }
    }
}

/// A [`Registry`] stored in ZooKeeper under `<zk path>/registry`; see the module
/// documentation for the layout and the write protocol.
pub struct ZkRegistry {
    /// The servers, for error messages.
    servers: String,
    /// The manifest node's path.
    root: String,
    options: ZkRegistryOptions,
    /// Names this instance's chunks apart from any other writer's.
    writer: String,
    client: zk::Client,
    /// Runs the client's session; `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    open: Option<Open>,
    broken: Option<Broken>,
}

impl std::fmt::Debug for ZkRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkRegistry")
            .field("servers", &self.servers)
            .field("root", &self.root)
            .field("writer", &self.writer)
            .field("version", &self.open.as_ref().map(|o| o.version))
            .field("broken", &self.broken)
            .finish()
    }
}

impl Drop for ZkRegistry {
    /// Stops the private runtime without waiting (allowed inside an async context).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The client, the manifest node and the per-request timeout, owned by a future that runs
/// on the private runtime.
struct Target {
    client: zk::Client,
    root: String,
    timeout: Duration,
}

/// What a manifest switch came to.
enum Switch {
    /// The manifest now has this version.
    Done(i32),
    /// Another writer changed the manifest first; nothing was changed.
    Superseded(String),
    /// Nothing was changed (no chunk could be written, say).
    Failed(String),
    /// The switch may or may not have happened.
    Unknown(String),
}

/// What one reading of the registry found.
enum Read {
    /// No manifest node yet.
    Missing,
    /// The manifest, its version and the state it names.
    Found(Box<Open>),
    /// Another writer changed the registry while it was read: read again.
    Raced,
}

impl ZkRegistry {
    /// The manifest node of the registry under `url`: `<path>/registry`.
    pub fn node_of(url: &ZkUrl) -> String {
        format!("{}/{REGISTRY_NODE}", url.path.trim_end_matches('/'))
    }

    /// Connects to the ensemble of `url` (failing after
    /// [`ZkRegistryOptions::operation_timeout`] if it cannot). Reads nothing yet: call
    /// [`Registry::recover`].
    pub fn open(url: &ZkUrl, options: ZkRegistryOptions) -> Result<ZkRegistry, RegistryError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("zk-registry")
            .enable_all()
            .build()
            .map_err(|e| RegistryError::ZooKeeper {
                servers: url.servers.clone(),
                reason: format!("cannot start the registry's runtime: {e}"),
            })?;
        let (connect_url, session) = (url.clone(), options.session_timeout);
        let client = wait(&runtime, options.operation_timeout, async move {
            crate::ha::connect(&connect_url, session).await
        })
        .map_err(|reason| RegistryError::ZooKeeper {
            servers: url.servers.clone(),
            reason,
        })
        .and_then(|connected| {
            connected.map_err(|e| RegistryError::ZooKeeper {
                servers: url.servers.clone(),
                reason: e.to_string(),
            })
        });
        let client = match client {
            Ok(client) => client,
            Err(error) => {
                runtime.shutdown_background();
                return Err(error);
            }
        };
        Ok(ZkRegistry {
            servers: url.servers.clone(),
            root: ZkRegistry::node_of(url),
            options,
            writer: format!("{:08x}", uuid::Uuid::new_v4().as_u128() as u32),
            client,
            runtime: Some(runtime),
            open: None,
            broken: None,
        })
    }

    /// What a request on the private runtime needs, owned.
    fn target(&self) -> Target {
        Target {
            client: self.client.clone(),
            root: self.root.clone(),
            timeout: self.options.operation_timeout,
        }
    }

    /// The manifest node's path.
    pub fn node(&self) -> &str {
        &self.root
    }

    /// The manifest version this registry last read or wrote (`None` before recovery).
    pub fn version(&self) -> Option<i32> {
        self.open.as_ref().map(|open| open.version)
    }

    fn zk_error(&self, reason: impl Into<String>) -> RegistryError {
        RegistryError::ZooKeeper {
            servers: self.servers.clone(),
            reason: reason.into(),
        }
    }

    fn corrupt(&self, node: &str, reason: impl Into<String>) -> RegistryError {
        RegistryError::CorruptNode {
            node: node.to_string(),
            reason: reason.into(),
        }
    }

    fn broken_error(&self, broken: &Broken) -> RegistryError {
        match broken {
            Broken::Superseded(reason) => RegistryError::Superseded {
                node: self.root.clone(),
                reason: reason.clone(),
            },
            Broken::Unknown(reason) => self.zk_error(format!(
                "an earlier write's outcome is unknown ({reason}); the registry must be \
                 recovered again"
            )),
        }
    }

    /// Runs `future` on the private runtime and waits for it, up to `limit`.
    fn run<T: Send + 'static>(
        &self,
        limit: Duration,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, RegistryError> {
        let Some(runtime) = &self.runtime else {
            return Err(self.zk_error("the registry is closing"));
        };
        wait(runtime, limit, future).map_err(|reason| self.zk_error(reason))
    }

    /// The limit of a sequence of `requests` requests.
    fn limit(&self, requests: usize) -> Duration {
        self.options
            .operation_timeout
            .saturating_mul(u32::try_from(requests).unwrap_or(u32::MAX).max(1))
    }

    /// Reads the manifest and the chunks it names, once.
    fn read(&self) -> Result<Read, RegistryError> {
        let target = self.target();
        let manifest = self.run(self.limit(1), async move {
            timed(target.timeout, target.client.get_data(&target.root)).await
        })?;
        let (data, stat) = match manifest {
            Ok(found) => found,
            Err(zk::Error::NoNode) => return Ok(Read::Missing),
            Err(e) => return Err(self.zk_error(format!("cannot read {}: {e}", self.root))),
        };
        let manifest =
            Manifest::decode(&data).map_err(|reason| self.corrupt(&self.root, reason))?;
        let names: Vec<String> = manifest
            .shards
            .iter()
            .flat_map(|shard| shard.chunks.iter().cloned())
            .collect();
        let Target {
            client,
            root,
            timeout,
        } = self.target();
        let chunks = self.run(self.limit(names.len() / 64 + 2), async move {
            let reads: Vec<_> = names
                .into_iter()
                .map(|name| {
                    let (client, path) = (client.clone(), format!("{root}/{name}"));
                    tokio::spawn(async move {
                        let data = timed(timeout, client.get_data(&path)).await;
                        (path, data.map(|(data, _)| data))
                    })
                })
                .collect();
            let mut chunks = Vec::with_capacity(reads.len());
            for read in reads {
                chunks.push(read.await);
            }
            chunks
        })?;
        let mut chunks = chunks.into_iter();
        let mut state = RegistryState::default();
        for (index, shard) in manifest.shards.iter().enumerate() {
            let mut bytes = Vec::with_capacity(usize::try_from(shard.bytes).unwrap_or(0));
            for _ in &shard.chunks {
                let read = chunks
                    .next()
                    .ok_or_else(|| self.zk_error("a chunk read was lost"))?;
                let (path, data) = read.map_err(|e| self.zk_error(format!("chunk read: {e}")))?;
                match data {
                    Ok(data) => bytes.extend_from_slice(&data),
                    Err(zk::Error::NoNode) => {
                        if self.manifest_version()? != Some(stat.version) {
                            return Ok(Read::Raced);
                        }
                        return Err(self.corrupt(&path, "the chunk the manifest names is missing"));
                    }
                    Err(e) => return Err(self.zk_error(format!("cannot read {path}: {e}"))),
                }
            }
            let node = format!("{} (shard {index})", self.root);
            if bytes.len() as u64 != shard.bytes || crc32fast::hash(&bytes) != shard.crc32 {
                return Err(self.corrupt(
                    &node,
                    format!(
                        "its chunks hold {} bytes with CRC-32 {:08x}; the manifest says {} \
                         bytes with CRC-32 {:08x}",
                        bytes.len(),
                        crc32fast::hash(&bytes),
                        shard.bytes,
                        shard.crc32
                    ),
                ));
            }
            merge_shard(&mut state, &manifest, index, &bytes)
                .map_err(|reason| self.corrupt(&node, reason))?;
        }
        Ok(Read::Found(Box::new(Open::new(
            state,
            manifest,
            stat.version,
        ))))
    }

    /// The manifest node's current version, `None` if it is gone.
    fn manifest_version(&self) -> Result<Option<i32>, RegistryError> {
        let target = self.target();
        self.run(self.limit(1), async move {
            timed(target.timeout, target.client.check_stat(&target.root)).await
        })?
        .map(|stat| stat.map(|s| s.version))
        .map_err(|e| self.zk_error(format!("cannot read {}: {e}", self.root)))
    }

    /// Creates the manifest node with `manifest` (the registry is new); the version, or
    /// `None` if another registry created it first.
    fn create_manifest(&self, manifest: &Manifest) -> Result<Option<i32>, RegistryError> {
        let Target {
            client,
            root,
            timeout,
        } = self.target();
        let parent = root
            .rsplit_once('/')
            .map(|(parent, _)| parent.to_string())
            .unwrap_or_default();
        let data = manifest.encode();
        let created = self.run(self.limit(2), async move {
            let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
            if !parent.is_empty() {
                timed(timeout, client.mkdir(&parent, &options)).await?;
            }
            timed(timeout, client.create(&root, &data, &options)).await
        })?;
        match created {
            Ok((stat, _)) => Ok(Some(stat.version)),
            Err(zk::Error::NodeExists) => Ok(None),
            Err(e) => Err(self.zk_error(format!("cannot create {}: {e}", self.root))),
        }
    }

    /// Writes `chunks` (names and data) and sets the manifest to `manifest` if its version is
    /// still `version`, then deletes the `replaced` chunks. A write that fits in one
    /// ZooKeeper request is one `multi` transaction (one round trip, one fsync on the
    /// ensemble, nothing left behind if it fails); a larger one takes two steps.
    fn switch(
        &self,
        chunks: Vec<(String, Vec<u8>)>,
        manifest: &Manifest,
        version: i32,
        replaced: Vec<String>,
    ) -> Switch {
        let bytes: usize = chunks.iter().map(|(_, data)| data.len()).sum();
        if bytes <= MULTI_BYTES && chunks.len() + replaced.len() < MULTI_OPERATIONS {
            match self.switch_in_one_transaction(&chunks, manifest, version, &replaced) {
                Some(outcome) => return outcome,
                None => tracing::debug!(node = %self.root, "a replaced chunk is gone already"),
            }
        }
        let outcome = self.switch_in_two_steps(chunks, manifest, version);
        if matches!(outcome, Switch::Done(_)) {
            self.delete_in_background(replaced);
        }
        outcome
    }

    /// [`ZkRegistry::switch`] as one `multi` transaction: creates, the conditional
    /// `set_data` of the manifest, deletes. `None` if it failed only because a replaced
    /// chunk was gone (nothing changed; the two-step way does not need it).
    fn switch_in_one_transaction(
        &self,
        chunks: &[(String, Vec<u8>)],
        manifest: &Manifest,
        version: i32,
        replaced: &[String],
    ) -> Option<Switch> {
        let Target {
            client,
            root,
            timeout,
        } = self.target();
        let path = |name: &String| format!("{root}/{name}");
        let creates: Vec<(String, Vec<u8>)> = chunks
            .iter()
            .map(|(name, data)| (path(name), data.clone()))
            .collect();
        let deletes: Vec<String> = replaced.iter().map(path).collect();
        let data = manifest.encode();
        let set_at = creates.len();
        let committed = self.run(self.limit(1), async move {
            let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
            let mut writer = client.new_multi_writer();
            for (path, data) in &creates {
                writer.add_create(path, data, &options)?;
            }
            writer.add_set_data(&root, &data, Some(version))?;
            for path in &deletes {
                writer.add_delete(path, None)?;
            }
            match tokio::time::timeout(timeout, writer.commit()).await {
                Ok(result) => result,
                Err(_) => Err(zk::Error::Timeout.into()),
            }
        });
        let outcome = match committed {
            Err(error) => Switch::Unknown(error.to_string()),
            Ok(Ok(results)) => match results.into_iter().nth(set_at) {
                Some(zk::MultiWriteResult::SetData { stat }) => Switch::Done(stat.version),
                other => Switch::Unknown(format!(
                    "unexpected answer to the manifest write: {other:?}"
                )),
            },
            Ok(Err(zk::MultiWriteError::OperationFailed { index, source })) => {
                if index < set_at {
                    Switch::Failed(format!("cannot create a chunk: {source}"))
                } else if index > set_at {
                    return None;
                } else if source == zk::Error::BadVersion {
                    Switch::Superseded(format!(
                        "its version is no longer {version}: another master wrote it"
                    ))
                } else if source == zk::Error::NoNode {
                    Switch::Superseded("the manifest node was deleted".into())
                } else {
                    Switch::Failed(format!("cannot set {}: {source}", self.root))
                }
            }
            Ok(Err(zk::MultiWriteError::RequestFailed { source })) => {
                Switch::Unknown(format!("the registry write: {source}"))
            }
        };
        Some(outcome)
    }

    /// Writes `chunks` (names and data), then sets the manifest to `manifest` if its version
    /// is still `version`. Deletes the new chunks again if the switch surely failed.
    fn switch_in_two_steps(
        &self,
        chunks: Vec<(String, Vec<u8>)>,
        manifest: &Manifest,
        version: i32,
    ) -> Switch {
        let Target {
            client,
            root,
            timeout,
        } = self.target();
        let data = manifest.encode();
        let limit = self.limit(chunks.len() / 64 + 3);
        let switched = self.run(limit, async move {
            let names: Vec<String> = chunks.iter().map(|(name, _)| name.clone()).collect();
            let creates: Vec<_> = chunks
                .into_iter()
                .map(|(name, data)| {
                    let (client, path) = (client.clone(), format!("{root}/{name}"));
                    tokio::spawn(async move {
                        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
                        timed(timeout, client.create(&path, &data, &options)).await
                    })
                })
                .collect();
            let mut failure = None;
            for create in creates {
                match create.await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => failure = failure.or(Some(format!("cannot create a chunk: {e}"))),
                    Err(e) => failure = failure.or(Some(format!("chunk write: {e}"))),
                }
            }
            let outcome = match failure {
                Some(reason) => Switch::Failed(reason),
                None => match timed(timeout, client.set_data(&root, &data, Some(version))).await {
                    Ok(stat) => return Switch::Done(stat.version),
                    Err(zk::Error::BadVersion) => Switch::Superseded(format!(
                        "its version is no longer {version}: another master wrote it"
                    )),
                    Err(zk::Error::NoNode) => {
                        Switch::Superseded("the manifest node was deleted".into())
                    }
                    Err(e) => return Switch::Unknown(format!("cannot set {root}: {e}")),
                },
            };
            delete_all(&client, &root, names, timeout).await;
            outcome
        });
        switched.unwrap_or_else(|e| Switch::Unknown(e.to_string()))
    }

    /// Deletes the chunks `names` in the background (their deletion is not awaited; any
    /// left over are deleted at the next recovery).
    fn delete_in_background(&self, names: Vec<String>) {
        if names.is_empty() {
            return;
        }
        if let Some(runtime) = &self.runtime {
            let Target {
                client,
                root,
                timeout,
            } = self.target();
            runtime.spawn(async move { delete_all(&client, &root, names, timeout).await });
        }
    }

    /// Deletes every child of the manifest node that `manifest` does not name: chunks of
    /// writes that never switched the manifest.
    fn delete_unnamed(&self, manifest: &Manifest) {
        let target = self.target();
        let children = self.run(self.limit(1), async move {
            timed(target.timeout, target.client.list_children(&target.root)).await
        });
        match children {
            Ok(Ok(children)) => {
                let named = manifest.chunk_names();
                let unnamed: Vec<String> = children
                    .into_iter()
                    .filter(|child| !named.contains(child.as_str()))
                    .collect();
                if !unnamed.is_empty() {
                    tracing::info!(
                        node = %self.root,
                        count = unnamed.len(),
                        "deleting registry chunks of unfinished writes"
                    );
                }
                self.delete_in_background(unnamed);
            }
            Ok(Err(e)) => tracing::warn!(node = %self.root, "cannot list registry chunks: {e}"),
            Err(e) => tracing::warn!(node = %self.root, "cannot list registry chunks: {e}"),
        }
    }

    /// Recovery: read (creating an empty registry if there is none), then claim.
    fn load(&self) -> Result<Open, RegistryError> {
        for attempt in 1..=RECOVER_ATTEMPTS {
            let Open {
                state,
                mut manifest,
                version,
                members,
            } = match self.read()? {
                Read::Found(open) => *open,
                Read::Raced => continue,
                Read::Missing => {
                    let manifest = Manifest::empty(self.options.agent_shards);
                    match self.create_manifest(&manifest)? {
                        Some(version) => {
                            tracing::info!(node = %self.root, "created an empty registry");
                            return Ok(Open::new(RegistryState::default(), manifest, version));
                        }
                        None => continue,
                    }
                }
            };
            manifest.generation += 1;
            match self.switch(Vec::new(), &manifest, version, Vec::new()) {
                Switch::Done(version) => {
                    self.delete_unnamed(&manifest);
                    tracing::info!(
                        node = %self.root,
                        version,
                        agents = state.agents.len(),
                        "recovered the registry from ZooKeeper"
                    );
                    return Ok(Open {
                        state,
                        manifest,
                        version,
                        members,
                    });
                }
                Switch::Superseded(reason) => {
                    tracing::info!(node = %self.root, attempt, "registry changed while read: {reason}");
                }
                Switch::Failed(reason) | Switch::Unknown(reason) => {
                    return Err(self.zk_error(format!("cannot claim the registry: {reason}")))
                }
            }
        }
        Err(self.zk_error(format!(
            "the registry at {} kept changing while it was read ({RECOVER_ATTEMPTS} attempts): \
             another master is writing it",
            self.root
        )))
    }
}

impl Registry for ZkRegistry {
    fn recover(&mut self) -> Result<RegistryState, RegistryError> {
        if let Some(broken) = &self.broken {
            return Err(self.broken_error(broken));
        }
        if let Some(open) = &self.open {
            return Ok(open.state.clone());
        }
        let open = self.load()?;
        let state = open.state.clone();
        self.open = Some(open);
        Ok(state)
    }

    fn apply(&mut self, operations: Vec<Operation>) -> Result<&RegistryState, RegistryError> {
        if let Some(broken) = &self.broken {
            return Err(self.broken_error(broken));
        }
        if operations.is_empty() {
            return self
                .open
                .as_ref()
                .map(|open| &open.state)
                .ok_or(RegistryError::NotRecovered);
        }
        let Some(open) = &self.open else {
            return Err(RegistryError::NotRecovered);
        };
        let agent_shards = open.manifest.agent_shards();
        let shards = affected_shards(&operations, agent_shards);
        let next = operation::apply_all(&part_of(&open.state, &shards, &open.members), &operations)
            .map_err(|(index, source)| RegistryError::InvalidOperation { index, source })?;
        let mut manifest = open.manifest.clone();
        manifest.generation += 1;
        let generation = manifest.generation;
        let mut chunks = Vec::new();
        let mut replaced = Vec::new();
        for (shard, bytes) in encode_shards(&next, &shards, agent_shards) {
            let names: Vec<String> = bytes
                .chunks(self.options.chunk_bytes.max(1))
                .enumerate()
                .map(|(i, chunk)| {
                    let name = format!("s{shard:05}-g{generation:010}-{}-{i:05}", self.writer);
                    chunks.push((name.clone(), chunk.to_vec()));
                    name
                })
                .collect();
            let new = ShardRef {
                chunks: names,
                bytes: bytes.len() as u64,
                crc32: crc32fast::hash(&bytes),
            };
            replaced.extend(std::mem::replace(&mut manifest.shards[shard], new).chunks);
        }
        let version = open.version;
        match self.switch(chunks, &manifest, version, replaced) {
            Switch::Done(version) => {
                let open = self.open.as_mut().ok_or(RegistryError::NotRecovered)?;
                // Valid on the part of the state they touch, so valid on the whole.
                for op in &operations {
                    operation::apply_validated(&mut open.state, op);
                }
                // The part holds every agent of the rewritten shards.
                let rewritten = members_of(&next, agent_shards);
                for shard in shards.into_iter().filter(|&s| s != 0) {
                    if let (Some(members), Some(now)) =
                        (open.members.get_mut(shard), rewritten.get(shard))
                    {
                        members.clone_from(now);
                    }
                }
                open.manifest = manifest;
                open.version = version;
                Ok(&open.state)
            }
            Switch::Failed(reason) => {
                Err(self.zk_error(format!("the write failed and changed nothing: {reason}")))
            }
            Switch::Superseded(reason) => {
                tracing::error!(node = %self.root, "registry write refused: {reason}");
                let broken = Broken::Superseded(reason);
                let error = self.broken_error(&broken);
                self.broken = Some(broken);
                Err(error)
            }
            Switch::Unknown(reason) => {
                let broken = Broken::Unknown(reason);
                let error = self.broken_error(&broken);
                self.broken = Some(broken);
                Err(error)
            }
        }
    }
}

/// Runs `future` on `runtime` and waits up to `limit` for it, without stalling the caller's
/// Tokio worker: under a multi-threaded runtime the wait is in `block_in_place`.
fn wait<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    limit: Duration,
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(tokio::time::timeout(limit, future).await);
    });
    let receive = move || rx.recv();
    let received = match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(receive)
        }
        _ => receive(),
    };
    match received {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(format!("no answer from ZooKeeper within {limit:?}")),
        Err(_) => Err("the registry's ZooKeeper runtime stopped".into()),
    }
}

/// `request`, failing with [`zk::Error::Timeout`] after `limit`.
async fn timed<T>(
    limit: Duration,
    request: impl Future<Output = Result<T, zk::Error>>,
) -> Result<T, zk::Error> {
    tokio::time::timeout(limit, request)
        .await
        .unwrap_or(Err(zk::Error::Timeout))
}

/// Deletes the chunks `names` under `root`, logging (not failing on) errors.
async fn delete_all(client: &zk::Client, root: &str, names: Vec<String>, limit: Duration) {
    let deletes: Vec<_> = names
        .into_iter()
        .map(|name| {
            let (client, path) = (client.clone(), format!("{root}/{name}"));
            tokio::spawn(async move {
                match timed(limit, client.delete(&path, None)).await {
                    Ok(()) | Err(zk::Error::NoNode) => {}
                    Err(e) => tracing::warn!(node = %path, "cannot delete a registry chunk: {e}"),
                }
            })
        })
        .collect();
    for delete in deletes {
        let _ = delete.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::{AgentId, AgentInfo, TimeInfo, WeightInfo};

    fn admit(id: &str) -> Operation {
        Operation::AdmitAgent(AgentInfo {
            hostname: format!("{id}.example.com"),
            id: Some(AgentId { value: id.into() }),
            ..Default::default()
        })
    }

    #[test]
    fn agents_spread_over_the_agent_shards_and_globals_go_to_shard_zero() {
        let shards: BTreeSet<usize> = (0..1000).map(|n| shard_of(&format!("a{n}"), 8)).collect();
        assert_eq!(shards, (1..=8).collect());
        assert_eq!(shard_of("x", 8), shard_of("x", 8), "stable");
        let weights = Operation::UpdateWeights(vec![WeightInfo {
            weight: 2.0,
            role: Some("r".into()),
        }]);
        assert_eq!(affected_shards(&[weights], 8), BTreeSet::from([0]));
        let prune = Operation::Prune {
            unreachable: vec![AgentId { value: "a1".into() }],
            gone: vec![AgentId { value: "a2".into() }],
        };
        let expected = BTreeSet::from([shard_of("a1", 8), shard_of("a2", 8)]);
        assert_eq!(affected_shards(&[prune], 8), expected);
    }

    #[test]
    fn shards_encode_and_merge_back_into_the_whole_state() {
        let mut ops: Vec<Operation> = (0..50).map(|n| admit(&format!("a{n}"))).collect();
        ops.push(Operation::MarkUnreachable(
            AgentId { value: "a3".into() },
            TimeInfo { nanoseconds: 3 },
        ));
        ops.push(Operation::MarkGone(
            AgentId { value: "a4".into() },
            TimeInfo { nanoseconds: 4 },
        ));
        ops.push(Operation::UpdateWeights(vec![WeightInfo {
            weight: 3.0,
            role: Some("r".into()),
        }]));
        let state = operation::apply_all(&RegistryState::default(), &ops).unwrap();
        let manifest = Manifest::empty(4);
        let mut merged = RegistryState::default();
        let all: BTreeSet<usize> = (0..manifest.shards.len()).collect();
        for (shard, bytes) in encode_shards(&state, &all, 4) {
            merge_shard(&mut merged, &manifest, shard, &bytes).unwrap();
        }
        assert_eq!(merged, state);
        // The part of the state in some shards holds exactly their agents.
        let some = BTreeSet::from([1, 3]);
        let part = part_of(&state, &some, &members_of(&state, 4));
        assert!(part.weights.is_empty());
        assert!(part.agents.keys().all(|id| some.contains(&shard_of(id, 4))));
        let in_some = state
            .agents
            .keys()
            .filter(|id| some.contains(&shard_of(id, 4)));
        assert_eq!(part.agents.len(), in_some.count());
    }

    #[test]
    fn a_shard_holding_what_belongs_elsewhere_is_refused() {
        let state = operation::apply_all(&RegistryState::default(), &[admit("a1")]).unwrap();
        let manifest = Manifest::empty(4);
        let home = shard_of("a1", 4);
        let elsewhere = if home == 1 { 2 } else { 1 };
        let bytes = encode_shards(&state, &BTreeSet::from([home]), 4)
            .remove(&home)
            .unwrap();
        let mut merged = RegistryState::default();
        let error = merge_shard(&mut merged, &manifest, elsewhere, &bytes).unwrap_err();
        assert!(error.contains("belongs in shard"), "{error}");
        let error = merge_shard(&mut merged, &manifest, 0, &bytes).unwrap_err();
        assert!(error.contains("global shard holds agents"), "{error}");
        let error = merge_shard(&mut merged, &manifest, home, b"\xff\xff").unwrap_err();
        assert!(!error.is_empty());
    }

    #[test]
    fn manifests_not_written_by_this_code_are_refused() {
        let good = Manifest::empty(3);
        assert_eq!(Manifest::decode(&good.encode()).unwrap(), good);
        let mut inconsistent = good.clone();
        inconsistent.shards[1].bytes = 10;
        let mut bad_name = good.clone();
        bad_name.shards[1] = ShardRef {
            chunks: vec!["../x".into()],
            bytes: 1,
            crc32: 0,
        };
        let mut too_few = good.clone();
        too_few.shards.truncate(1);
        let mut other = good.clone();
        other.format = "other".into();
        for manifest in [inconsistent, bad_name, too_few, other] {
            assert!(
                Manifest::decode(&manifest.encode()).is_err(),
                "{manifest:?}"
            );
        }
        assert!(Manifest::decode(b"").is_err());
        assert!(Manifest::decode(b"[1,2]").is_err());
    }
}
