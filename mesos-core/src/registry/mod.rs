//! The master's registry: the durable state a master recovers after a failover (admitted,
//! unreachable and gone agents, weights, quotas, the maintenance schedule, drain state and
//! the last leader's MasterInfo), as Apache Mesos' registrar keeps it.
//!
//! [`Registry`] is the trait the master writes through; [`InMemoryRegistry`] keeps the
//! state in memory only (`--registry=in_memory`), [`FileRegistry`] in an embedded store
//! under `<work_dir>/registry/` (the default for a standalone master), [`ZkRegistry`] in
//! ZooKeeper under the `--zk` path (the default with `--zk`). The state transition itself
//! is pure and lives in [`operation`]; every implementation shares it.
//!
//! A batch of operations is applied atomically: every operation is validated against the
//! state left by the ones before it, and one invalid operation fails the whole batch with
//! nothing changed, on disk or in memory. `apply` returns only when the batch is durable.

mod file;
mod lock;
mod memory;
pub mod operation;
pub mod state;
mod zookeeper;

use std::path::PathBuf;

pub use file::{FileRegistry, FileRegistryOptions};
pub use memory::InMemoryRegistry;
pub use operation::{Operation, OperationError};
pub use state::{AdmittedAgent, RegistryState, UnreachableAgent, SCHEMA_VERSION};
pub use zookeeper::{ZkRegistry, ZkRegistryOptions, REGISTRY_NODE};

/// Where the master keeps its durable state.
pub trait Registry: Send + Sync {
    /// Loads the state (for [`FileRegistry`], from disk, repairing a torn log tail). Must be
    /// called before [`Registry::apply`]; called again, it returns the current state.
    fn recover(&mut self) -> Result<RegistryState, RegistryError>;

    /// Applies `operations` atomically, in order, returning once the result is durable.
    /// On any error nothing is changed; an empty batch is a no-op.
    fn apply(&mut self, operations: Vec<Operation>) -> Result<&RegistryState, RegistryError>;
}

/// Why the registry could not be recovered or updated.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// An operation of the batch is invalid against the state; nothing was changed.
    #[error("registry operation {index} of the batch is invalid: {source}")]
    InvalidOperation {
        /// The position of the invalid operation in the batch.
        index: usize,
        /// Why it is invalid.
        source: OperationError,
    },
    /// `apply` was called before `recover`.
    #[error("the registry has not been recovered yet")]
    NotRecovered,
    /// Another registry instance (in this or another process) holds the directory's lock.
    #[error("registry directory {} is locked by another registry (another master running on this work_dir?)", .path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A file operation failed.
    #[error("registry IO error: {action} {}: {source}", .path.display())]
    Io {
        /// What was being done, e.g. "fsync".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A registry file holds bytes no correct writer produces (other than a torn tail of
    /// the log, which recovery repairs).
    #[error("corrupt registry file {} at offset {offset}: {reason}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The byte offset of the bad record or field.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// An earlier write failed, so the files' state is unknown; the registry must be
    /// reopened (recovery tells what is durable).
    #[error("an earlier registry write failed; reopen the registry to recover")]
    Failed,
    /// ZooKeeper could not be reached, did not answer in time, or refused a request.
    #[error("registry in ZooKeeper at {servers}: {reason}")]
    ZooKeeper {
        /// The servers of the `--zk` URL.
        servers: String,
        /// What failed.
        reason: String,
    },
    /// Another registry (a newer leader's) claimed or wrote the registry after this one
    /// read it; this one writes no more, so that a deposed leader never overwrites.
    #[error("registry {node} was taken over by another master: {reason}")]
    Superseded {
        /// The registry's manifest node.
        node: String,
        /// What showed it.
        reason: String,
    },
    /// A registry node in ZooKeeper holds data no correct writer produces, or a node the
    /// manifest names is missing. Nothing is changed or deleted.
    #[error("corrupt registry node {node} in ZooKeeper: {reason}")]
    CorruptNode {
        /// The node (or the manifest and the shard it names).
        node: String,
        /// What is wrong.
        reason: String,
    },
}

impl RegistryError {
    /// Whether a master that got this error from a write must stop acting as leader: its
    /// registry was taken over by another master, or the replicated store failed (as
    /// Apache Mesos' masters abort when their registrar fails).
    pub fn ends_leadership(&self) -> bool {
        matches!(
            self,
            RegistryError::Superseded { .. } | RegistryError::ZooKeeper { .. }
        )
    }
}

/// Validates `operations` against `state`, runs `commit` (which makes the batch durable),
/// then changes `state`. If validation or `commit` fails, `state` is unchanged.
pub(crate) fn apply_batch(
    state: &mut RegistryState,
    operations: &[Operation],
    commit: impl FnOnce() -> Result<(), RegistryError>,
) -> Result<(), RegistryError> {
    let invalid = |(index, source)| RegistryError::InvalidOperation { index, source };
    match operations {
        [] => Ok(()),
        [op] => {
            // The common case: validate in place, no copy of the state.
            operation::validate(state, op).map_err(|source| invalid((0, source)))?;
            commit()?;
            operation::apply_validated(state, op);
            Ok(())
        }
        _ => {
            let next = operation::apply_all(state, operations).map_err(invalid)?;
            commit()?;
            *state = next;
            Ok(())
        }
    }
}
