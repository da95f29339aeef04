//! The agent's checkpoints under `<work_dir>/meta/slaves/<agent>/`, written so that an agent
//! restarted after a crash finds what it was running:
//!
//! ```text
//! frameworks/<fw>/framework.info                       FrameworkInfo (protobuf)
//! frameworks/<fw>/executors/<ex>/executor.info         ExecutorInfo (protobuf)
//! frameworks/<fw>/executors/<ex>/runs/<c>/run.json     the container: pid, limits, ...
//! frameworks/<fw>/executors/<ex>/runs/<c>/tasks/<t>/task.info     Task (protobuf)
//! frameworks/<fw>/executors/<ex>/runs/<c>/tasks/<t>/task.updates  status update log
//! containers/<c>.json                                  a container of a framework that
//!                                                      does not checkpoint
//! slave.info                                           AgentInfo (protobuf) as the flags
//!                                                      described the agent when it
//!                                                      registered
//! resources.info                                       the agent's total resources as the
//!                                                      master last checkpointed them
//!                                                      (dynamic reservations, volumes)
//! ```
//!
//! Every container gets a record, so a restarted agent can kill those it must not keep:
//! `run.json` (replaced atomically and fsynced, with the infos) for frameworks with
//! `checkpoint: true`; otherwise one file in the flat `containers/`, written without fsync,
//! as launching into a directory tree of its own cost four inodes per container. A run that
//! ended has its record removed.

use std::path::{Path, PathBuf};

use prost::Message;
use serde::{Deserialize, Serialize};

use super::containerizer::isolator::ResourceLimits;
use super::paths;
use crate::durable_fs;
use crate::proto::mesos::v1::{AgentInfo, ExecutorInfo, FrameworkInfo, Resource, Task};

/// Why checkpoints could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file operation failed.
    #[error("checkpoint {}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file holds something no agent wrote.
    #[error("corrupt checkpoint {}: {reason}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A container as checkpointed in `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The container's first process (the executor).
    pub pid: i32,
    /// That process' start time (`/proc/<pid>/stat`): a recovered pid is the executor only
    /// if it matches. Absent in records an older agent wrote.
    #[serde(default)]
    pub start_time: Option<u64>,
    /// Whether the executor is the built-in command executor.
    pub command_executor: bool,
    /// Whether the framework checkpoints: only then is the container kept on recovery.
    pub checkpoint: bool,
    /// The container's CPU limit.
    pub cpus: Option<f64>,
    /// The container's memory limit in bytes.
    pub mem_bytes: Option<u64>,
}

impl RunRecord {
    /// The limits the container was launched with, for its isolators to take it back.
    pub fn limits(&self) -> ResourceLimits {
        ResourceLimits {
            cpus: self.cpus,
            mem_bytes: self.mem_bytes,
            pids: None,
        }
    }
}

/// The record of a container of a framework that does not checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct ContainerRecord {
    framework_id: String,
    executor_id: String,
    run: RunRecord,
}

/// Where one agent's checkpoints live.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    durable_fs::create_dirs(durable_fs::parent_of(path)).map_err(io(path))?;
    durable_fs::replace_file(path, bytes).map_err(io(path))
}

fn to_json(path: &Path, value: &impl Serialize) -> Result<Vec<u8>, CheckpointError> {
    serde_json::to_vec(value).map_err(|e| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn from_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
) -> Result<T, CheckpointError> {
    serde_json::from_slice(bytes).map_err(|e| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn read_message<M: Message + Default>(path: &Path) -> Result<Option<M>, CheckpointError> {
    let Some(bytes) = durable_fs::read_if_exists(path).map_err(io(path))? else {
        return Ok(None);
    };
    M::decode(bytes.as_slice())
        .map(Some)
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// The names of the directories in `dir` (none if it does not exist).
fn subdirectories(dir: &Path) -> Result<Vec<String>, CheckpointError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// An executor run found by [`Checkpoints::recover`].
#[derive(Debug, Clone)]
pub struct RecoveredRun {
    /// The framework.
    pub framework_id: String,
    /// The framework's info, if it checkpoints.
    pub framework: Option<FrameworkInfo>,
    /// The executor's info, if its framework checkpoints.
    pub executor: Option<ExecutorInfo>,
    /// The executor id.
    pub executor_id: String,
    /// The container.
    pub container_id: String,
    /// The container's record.
    pub run: RunRecord,
    /// Its tasks, each with its status update log when there is one.
    pub tasks: Vec<(Task, Option<PathBuf>)>,
}

impl Checkpoints {
    /// The checkpoints of agent `agent_id` in `work_dir`.
    pub fn new(work_dir: &Path, agent_id: &str) -> Checkpoints {
        Checkpoints {
            root: paths::meta_agent_dir(work_dir, agent_id),
        }
    }

    fn framework_dir(&self, framework_id: &str) -> PathBuf {
        self.root.join("frameworks").join(framework_id)
    }

    fn executor_dir(&self, framework_id: &str, executor_id: &str) -> PathBuf {
        self.framework_dir(framework_id)
            .join("executors")
            .join(executor_id)
    }

    /// The checkpoint directory of one executor run.
    pub fn run_dir(&self, framework_id: &str, executor_id: &str, container_id: &str) -> PathBuf {
        self.executor_dir(framework_id, executor_id)
            .join("runs")
            .join(container_id)
    }

    /// The record of a container of a framework that does not checkpoint.
    fn container_record(&self, container_id: &str) -> PathBuf {
        self.root
            .join("containers")
            .join(format!("{container_id}.json"))
    }

    /// The status update log of a task.
    pub fn task_updates(
        &self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        task_id: &str,
    ) -> PathBuf {
        self.run_dir(framework_id, executor_id, container_id)
            .join("tasks")
            .join(task_id)
            .join("task.updates")
    }

    /// Checkpoints the agent's info as its flags describe it, durably: a restart checks its
    /// new flags against it (see [`super::reconfiguration`]).
    pub fn write_agent_info(&self, info: &AgentInfo) -> Result<(), CheckpointError> {
        write(&self.root.join("slave.info"), &info.encode_to_vec())
    }

    /// The info [`Checkpoints::write_agent_info`] recorded, if any.
    pub fn read_agent_info(&self) -> Result<Option<AgentInfo>, CheckpointError> {
        read_message(&self.root.join("slave.info"))
    }

    /// Where [`Checkpoints::write_resources`] keeps the agent's resources.
    pub fn resources_path(&self) -> PathBuf {
        self.root.join("resources.info")
    }

    /// Checkpoints the agent's total resources as the master sent them (CHECKPOINT_RESOURCES:
    /// its dynamic reservations and persistent volumes), durably: the agent re-registers
    /// with them after a restart. Length-delimited `Resource` protobufs.
    pub fn write_resources(&self, total: &[Resource]) -> Result<(), CheckpointError> {
        let mut bytes = Vec::new();
        for resource in total {
            resource
                .encode_length_delimited(&mut bytes)
                .expect("a Vec grows as needed");
        }
        write(&self.resources_path(), &bytes)
    }

    /// The resources [`Checkpoints::write_resources`] recorded, if any.
    pub fn read_resources(&self) -> Result<Option<Vec<Resource>>, CheckpointError> {
        let path = self.resources_path();
        let Some(bytes) = durable_fs::read_if_exists(&path).map_err(io(&path))? else {
            return Ok(None);
        };
        let mut rest = bytes.as_slice();
        let mut total = Vec::new();
        while !rest.is_empty() {
            let resource = Resource::decode_length_delimited(&mut rest).map_err(|e| {
                CheckpointError::Corrupt {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?;
            total.push(resource);
        }
        Ok(Some(total))
    }

    /// Checkpoints a framework's info.
    pub fn write_framework(&self, info: &FrameworkInfo) -> Result<(), CheckpointError> {
        let id = info.id.clone().unwrap_or_default().value;
        write(
            &self.framework_dir(&id).join("framework.info"),
            &info.encode_to_vec(),
        )
    }

    /// Checkpoints an executor's info.
    pub fn write_executor(
        &self,
        framework_id: &str,
        info: &ExecutorInfo,
    ) -> Result<(), CheckpointError> {
        let dir = self.executor_dir(framework_id, &info.executor_id.value);
        write(&dir.join("executor.info"), &info.encode_to_vec())
    }

    /// Checkpoints a task given to an executor run.
    pub fn write_task(
        &self,
        executor_id: &str,
        container_id: &str,
        task: &Task,
    ) -> Result<(), CheckpointError> {
        let dir = self
            .run_dir(&task.framework_id.value, executor_id, container_id)
            .join("tasks")
            .join(&task.task_id.value);
        write(&dir.join("task.info"), &task.encode_to_vec())
    }

    /// Checkpoints a launched container (durably when its framework checkpoints).
    pub fn write_run(
        &self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        run: &RunRecord,
    ) -> Result<(), CheckpointError> {
        if run.checkpoint {
            let path = self
                .run_dir(framework_id, executor_id, container_id)
                .join("run.json");
            return write(&path, &to_json(&path, run)?);
        }
        // Only there so a restarted agent can kill the container: no fsync on the launch
        // path (losing it in a crash leaves the cgroup sweep to find the container).
        let path = self.container_record(container_id);
        let record = ContainerRecord {
            framework_id: framework_id.to_string(),
            executor_id: executor_id.to_string(),
            run: run.clone(),
        };
        let bytes = to_json(&path, &record)?;
        std::fs::create_dir_all(durable_fs::parent_of(&path)).map_err(io(&path))?;
        std::fs::write(&path, bytes).map_err(io(&path))
    }

    /// Marks a container as ended: a restarted agent does not recover it.
    pub fn end_run(
        &self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
    ) -> Result<(), CheckpointError> {
        let path = self
            .run_dir(framework_id, executor_id, container_id)
            .join("run.json");
        let record = self.container_record(container_id);
        durable_fs::remove_if_exists(&record).map_err(io(&record))?;
        if durable_fs::remove_if_exists(&path).map_err(io(&path))? {
            durable_fs::sync_dir(durable_fs::parent_of(&path)).map_err(io(&path))?;
        }
        Ok(())
    }

    /// Every container that had not ended when the agent stopped.
    pub fn recover(&self) -> Result<Vec<RecoveredRun>, CheckpointError> {
        let mut runs = Vec::new();
        for framework_id in subdirectories(&self.root.join("frameworks"))? {
            let framework_dir = self.framework_dir(&framework_id);
            let framework: Option<FrameworkInfo> =
                read_message(&framework_dir.join("framework.info"))?;
            for executor_id in subdirectories(&framework_dir.join("executors"))? {
                let executor_dir = self.executor_dir(&framework_id, &executor_id);
                let executor: Option<ExecutorInfo> =
                    read_message(&executor_dir.join("executor.info"))?;
                for container_id in subdirectories(&executor_dir.join("runs"))? {
                    let run_dir = self.run_dir(&framework_id, &executor_id, &container_id);
                    let record = run_dir.join("run.json");
                    let Some(bytes) = durable_fs::read_if_exists(&record).map_err(io(&record))?
                    else {
                        continue;
                    };
                    let run: RunRecord = from_json(&record, &bytes)?;
                    let mut tasks = Vec::new();
                    for task_id in subdirectories(&run_dir.join("tasks"))? {
                        let task_dir = run_dir.join("tasks").join(&task_id);
                        if let Some(task) = read_message::<Task>(&task_dir.join("task.info"))? {
                            let updates = task_dir.join("task.updates");
                            tasks.push((task, updates.exists().then_some(updates)));
                        }
                    }
                    runs.push(RecoveredRun {
                        framework_id: framework_id.clone(),
                        framework: framework.clone(),
                        executor: executor.clone(),
                        executor_id: executor_id.clone(),
                        container_id,
                        run,
                        tasks,
                    });
                }
            }
        }
        self.recover_container_records(&mut runs)?;
        Ok(runs)
    }

    /// Adds the containers of frameworks that do not checkpoint to `runs`.
    fn recover_container_records(
        &self,
        runs: &mut Vec<RecoveredRun>,
    ) -> Result<(), CheckpointError> {
        let dir = self.root.join("containers");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(&dir)(e)),
        };
        let mut records = Vec::new();
        for entry in entries {
            let path = entry.map_err(io(&dir))?.path();
            let container_id = match (path.file_stem(), path.extension()) {
                (Some(stem), Some(ext)) if ext == "json" => stem.to_string_lossy().into_owned(),
                _ => continue,
            };
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let record: ContainerRecord = from_json(&path, &bytes)?;
            records.push((container_id, record));
        }
        records.sort_by(|a, b| a.0.cmp(&b.0));
        runs.extend(
            records
                .into_iter()
                .map(|(container_id, record)| RecoveredRun {
                    framework_id: record.framework_id,
                    framework: None,
                    executor: None,
                    executor_id: record.executor_id,
                    container_id,
                    run: record.run,
                    tasks: Vec::new(),
                }),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::{ExecutorId, FrameworkId, TaskId};

    #[test]
    fn resources_round_trip_and_a_torn_file_is_corrupt() {
        let work = tempfile::tempdir().unwrap();
        let checkpoints = Checkpoints::new(work.path(), "S1");
        assert!(checkpoints.read_resources().unwrap().is_none());
        let reserved = crate::resources::parse_resources("cpus(ops):2;ports:[31000-31002]", "*")
            .unwrap()
            .to_protos();
        checkpoints.write_resources(&reserved).unwrap();
        assert_eq!(checkpoints.read_resources().unwrap(), Some(reserved));
        checkpoints.write_resources(&[]).unwrap();
        assert_eq!(checkpoints.read_resources().unwrap(), Some(vec![]));

        let path = checkpoints.resources_path();
        std::fs::write(&path, [0x20, 1, 2]).unwrap();
        let err = checkpoints.read_resources().unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn the_agent_info_round_trips() {
        let work = tempfile::tempdir().unwrap();
        let checkpoints = Checkpoints::new(work.path(), "S1");
        assert!(checkpoints.read_agent_info().unwrap().is_none());
        let info = AgentInfo {
            hostname: "host-a".into(),
            port: Some(5051),
            resources: crate::resources::parse_resources("cpus:2", "*")
                .unwrap()
                .to_protos(),
            ..Default::default()
        };
        checkpoints.write_agent_info(&info).unwrap();
        assert_eq!(checkpoints.read_agent_info().unwrap(), Some(info));
    }

    #[test]
    fn runs_round_trip_and_ended_runs_are_not_recovered() {
        let work = tempfile::tempdir().unwrap();
        let checkpoints = Checkpoints::new(work.path(), "S1");
        let framework = FrameworkInfo {
            id: Some(FrameworkId { value: "F".into() }),
            name: "f".into(),
            checkpoint: Some(true),
            ..Default::default()
        };
        let executor = ExecutorInfo {
            executor_id: ExecutorId { value: "E".into() },
            ..Default::default()
        };
        let task = Task {
            task_id: TaskId { value: "T".into() },
            framework_id: FrameworkId { value: "F".into() },
            name: "t".into(),
            ..Default::default()
        };
        let run = RunRecord {
            pid: 42,
            start_time: Some(7),
            command_executor: false,
            checkpoint: true,
            cpus: Some(0.5),
            mem_bytes: Some(1 << 27),
        };
        checkpoints.write_framework(&framework).unwrap();
        checkpoints.write_executor("F", &executor).unwrap();
        checkpoints.write_run("F", "E", "C1", &run).unwrap();
        checkpoints.write_task("E", "C1", &task).unwrap();
        checkpoints.write_run("F", "E", "C0", &run).unwrap();
        checkpoints.end_run("F", "E", "C0").unwrap();
        let unkept = RunRecord {
            checkpoint: false,
            ..run.clone()
        };
        checkpoints.write_run("G", "E2", "C2", &unkept).unwrap();
        checkpoints.write_run("G", "E3", "C3", &unkept).unwrap();
        checkpoints.end_run("G", "E3", "C3").unwrap();

        let recovered = checkpoints.recover().unwrap();
        assert_eq!(recovered.len(), 2);
        let other = &recovered[1];
        assert_eq!(
            (
                other.framework_id.as_str(),
                other.executor_id.as_str(),
                other.container_id.as_str()
            ),
            ("G", "E2", "C2")
        );
        assert_eq!((&other.framework, &other.executor), (&None, &None));
        assert_eq!(other.run, unkept);
        assert!(other.tasks.is_empty());
        assert!(
            !paths::meta_agent_dir(work.path(), "S1")
                .join("frameworks/G")
                .exists(),
            "a framework that does not checkpoint gets no directories"
        );
        let r = &recovered[0];
        assert_eq!(
            (
                r.framework_id.as_str(),
                r.executor_id.as_str(),
                r.container_id.as_str()
            ),
            ("F", "E", "C1")
        );
        assert_eq!(r.framework.as_ref(), Some(&framework));
        assert_eq!(r.executor.as_ref(), Some(&executor));
        assert_eq!(r.run, run);
        assert_eq!(r.tasks.len(), 1);
        assert_eq!(r.tasks[0].0, task);
        assert_eq!(r.tasks[0].1, None);
    }

    #[test]
    fn corrupt_checkpoints_are_reported() {
        let work = tempfile::tempdir().unwrap();
        let checkpoints = Checkpoints::new(work.path(), "S1");
        let run = RunRecord {
            pid: 1,
            start_time: None,
            command_executor: true,
            checkpoint: false,
            cpus: None,
            mem_bytes: None,
        };
        checkpoints.write_run("F", "E", "C", &run).unwrap();
        let path = paths::meta_agent_dir(work.path(), "S1").join("containers/C.json");
        std::fs::write(&path, b"{not json").unwrap();
        let err = checkpoints.recover().unwrap_err();
        assert!(err.to_string().contains("C.json"), "{err}");
        let kept = paths::meta_agent_dir(work.path(), "S1")
            .join("frameworks/F/executors/E/runs/C1/run.json");
        checkpoints
            .write_run(
                "F",
                "E",
                "C1",
                &RunRecord {
                    checkpoint: true,
                    ..run
                },
            )
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&kept, b"{not json").unwrap();
        let err = checkpoints.recover().unwrap_err();
        assert!(err.to_string().contains("run.json"), "{err}");
    }

    #[test]
    fn a_run_an_older_agent_recorded_without_a_start_time_is_read() {
        let old =
            r#"{"pid":5,"command_executor":true,"checkpoint":true,"cpus":null,"mem_bytes":null}"#;
        let run: RunRecord = serde_json::from_str(old).unwrap();
        assert_eq!((run.pid, run.start_time), (5, None));
    }
}
