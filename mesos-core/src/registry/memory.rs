//! A registry that keeps its state in memory only (`--registry=in_memory`): for tests and
//! single-master setups that need no durability.

use super::{apply_batch, Operation, Registry, RegistryError, RegistryState};

/// A [`Registry`] whose state lives only as long as the value.
#[derive(Debug, Default)]
pub struct InMemoryRegistry {
    state: RegistryState,
    recovered: bool,
}

impl InMemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry that starts from `state` (as if recovered from a previous run).
    pub fn with_state(state: RegistryState) -> Self {
        InMemoryRegistry {
            state,
            recovered: false,
        }
    }
}

impl Registry for InMemoryRegistry {
    fn recover(&mut self) -> Result<RegistryState, RegistryError> {
        self.recovered = true;
        Ok(self.state.clone())
    }

    fn apply(&mut self, operations: Vec<Operation>) -> Result<&RegistryState, RegistryError> {
        if !self.recovered {
            return Err(RegistryError::NotRecovered);
        }
        apply_batch(&mut self.state, &operations, || Ok(()))?;
        Ok(&self.state)
    }
}
