//! Where the agent keeps things under `--work_dir`, in Apache Mesos' layout:
//!
//! - sandboxes: `slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>`, with a
//!   `runs/latest` link to the newest run;
//! - checkpoints: `meta/slaves/<agent>/...` mirroring the sandbox tree (`slave.info`,
//!   `framework.info`, `executor.info`, `tasks/<task>/task.updates`; see
//!   [`checkpoint`](super::checkpoint)), and `meta/slaves/latest` naming the agent id in use.

use std::io;
use std::path::{Path, PathBuf};

/// The directory of one agent's sandboxes.
pub fn agent_dir(work_dir: &Path, agent_id: &str) -> PathBuf {
    work_dir.join("slaves").join(agent_id)
}

/// The directory of one framework's executors, each executor's runs in a subdirectory.
pub fn executors_dir(work_dir: &Path, agent_id: &str, framework_id: &str) -> PathBuf {
    agent_dir(work_dir, agent_id)
        .join("frameworks")
        .join(framework_id)
        .join("executors")
}

/// The [`executors_dir`] a sandbox of [`sandbox_dir`] is in: three levels up.
pub fn executors_dir_of(sandbox: &Path) -> Option<&Path> {
    sandbox.ancestors().nth(3)
}

/// The directory holding every run of one executor.
pub fn executor_dir(
    work_dir: &Path,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
) -> PathBuf {
    executors_dir(work_dir, agent_id, framework_id).join(executor_id)
}

/// The sandbox of one executor run.
pub fn sandbox_dir(
    work_dir: &Path,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
    container_id: &str,
) -> PathBuf {
    executor_dir(work_dir, agent_id, framework_id, executor_id)
        .join("runs")
        .join(container_id)
}

/// The agent's checkpoint directory.
pub fn meta_agent_dir(work_dir: &Path, agent_id: &str) -> PathBuf {
    work_dir.join("meta").join("slaves").join(agent_id)
}

/// The file naming the agent id in use (`meta/slaves/latest`, a link in Mesos; here a link
/// to the agent's checkpoint directory as well).
pub fn latest_agent_link(work_dir: &Path) -> PathBuf {
    work_dir.join("meta").join("slaves").join("latest")
}

/// Whether `id` (a framework, executor or task id) can name a directory: not empty, not
/// `.` or `..`, without `/` or NUL.
pub fn is_safe_component(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && !id.contains(['/', '\0'])
}

/// Points `runs/latest` of `sandbox`'s executor at `sandbox` (replacing an older link).
pub fn link_latest_run(sandbox: &Path) -> io::Result<()> {
    let (Some(runs), Some(name)) = (sandbox.parent(), sandbox.file_name()) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no parent"));
    };
    let link = runs.join("latest");
    let staged = runs.join(".latest.new");
    let _ = std::fs::remove_file(&staged);
    std::os::unix::fs::symlink(name, &staged)?;
    std::fs::rename(&staged, &link)
}

/// Reads the agent id recorded by [`record_agent_id`], if any.
pub fn recorded_agent_id(work_dir: &Path) -> Option<String> {
    let target = std::fs::read_link(latest_agent_link(work_dir)).ok()?;
    let id = target.file_name()?.to_str()?.to_string();
    is_safe_component(&id).then_some(id)
}

/// Records `agent_id` as the agent's id (durably: the next start re-registers with it).
pub fn record_agent_id(work_dir: &Path, agent_id: &str) -> io::Result<()> {
    let dir = meta_agent_dir(work_dir, agent_id);
    std::fs::create_dir_all(&dir)?;
    let link = latest_agent_link(work_dir);
    let staged = link.with_file_name(".latest.new");
    let _ = std::fs::remove_file(&staged);
    std::os::unix::fs::symlink(agent_id, &staged)?;
    std::fs::rename(&staged, &link)?;
    if let Some(parent) = link.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Forgets the agent id [`record_agent_id`] recorded (durably: the next start registers
/// as a new agent).
pub fn forget_agent_id(work_dir: &Path) -> io::Result<()> {
    let link = latest_agent_link(work_dir);
    match std::fs::remove_file(&link) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(parent) = link.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_mesos() {
        let dir = sandbox_dir(Path::new("/w"), "A", "F", "E", "C");
        assert_eq!(
            dir,
            Path::new("/w/slaves/A/frameworks/F/executors/E/runs/C")
        );
        assert_eq!(
            meta_agent_dir(Path::new("/w"), "A"),
            Path::new("/w/meta/slaves/A")
        );
    }

    #[test]
    fn unsafe_ids_are_refused() {
        for bad in ["", ".", "..", "a/b", "a\0b"] {
            assert!(!is_safe_component(bad), "{bad:?}");
        }
        assert!(is_safe_component("task-1.a_b"));
    }

    #[test]
    fn agent_id_and_latest_run_links() {
        let work = tempfile::tempdir().unwrap();
        assert_eq!(recorded_agent_id(work.path()), None);
        record_agent_id(work.path(), "S1").unwrap();
        record_agent_id(work.path(), "S2").unwrap();
        assert_eq!(recorded_agent_id(work.path()).as_deref(), Some("S2"));
        forget_agent_id(work.path()).unwrap();
        assert_eq!(recorded_agent_id(work.path()), None);
        forget_agent_id(work.path()).unwrap();
        record_agent_id(work.path(), "S2").unwrap();

        let sandbox = sandbox_dir(work.path(), "S2", "F", "E", "C1");
        std::fs::create_dir_all(&sandbox).unwrap();
        link_latest_run(&sandbox).unwrap();
        let second = sandbox.with_file_name("C2");
        std::fs::create_dir_all(&second).unwrap();
        link_latest_run(&second).unwrap();
        let latest = second.with_file_name("latest");
        assert_eq!(std::fs::read_link(latest).unwrap(), Path::new("C2"));
    }
}
