//! `--recover=cleanup`: what an agent does instead of starting when it is told to clean up
//! after an earlier run (before an incompatible upgrade, say): it destroys every container
//! that run left, checkpointed or not, and forgets the run's agent id, without registering
//! with the master. Mesos' agent exits afterwards, and its next start registers as a new
//! agent.

use std::collections::HashSet;

use super::checkpoint::Checkpoints;
use super::containerizer::Containerizer;
use super::{paths, Agent, AgentError, AgentOptions};

/// What a cleanup did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cleanup {
    /// The agent id the earlier run had, now forgotten.
    pub agent_id: Option<String>,
    /// The containers destroyed.
    pub destroyed: usize,
}

impl Agent {
    /// Cleans up after an earlier run of the agent in `options.work_dir` (see the module
    /// doc). A container that cannot be destroyed is an error, and the agent id is then
    /// kept so that a later cleanup finds the container again.
    pub fn cleanup(options: &AgentOptions) -> Result<Cleanup, AgentError> {
        let containerizer = Containerizer::from_config(&options.containerizer)?;
        let agent_id = paths::recorded_agent_id(&options.work_dir);
        let mut known = HashSet::new();
        let mut destroyed = 0;
        if let Some(id) = &agent_id {
            let checkpoints = Checkpoints::new(&options.work_dir, id);
            let recovery = |source| AgentError::Recovery {
                source,
                work_dir: options.work_dir.clone(),
            };
            for run in checkpoints.recover().map_err(recovery)? {
                known.insert(run.container_id.clone());
                let recovered = containerizer.recover(
                    &run.container_id,
                    run.run.pid,
                    run.run.start_time,
                    &run.run.limits(),
                );
                match recovered {
                    Ok(()) => {
                        containerizer.destroy(&run.container_id)?;
                        tracing::info!("destroyed container {}", run.container_id);
                        destroyed += 1;
                    }
                    // Its processes are gone already.
                    Err(e) => tracing::info!("container {} has ended: {e}", run.container_id),
                }
                checkpoints
                    .end_run(&run.framework_id, &run.executor_id, &run.container_id)
                    .map_err(recovery)?;
            }
        }
        for orphan in containerizer.orphans(&known) {
            containerizer.destroy_orphan(&orphan)?;
            tracing::info!("destroyed orphan container {orphan}");
            destroyed += 1;
        }
        paths::forget_agent_id(&options.work_dir).map_err(|source| AgentError::WorkDir {
            path: paths::latest_agent_link(&options.work_dir),
            source,
        })?;
        Ok(Cleanup {
            agent_id,
            destroyed,
        })
    }
}
