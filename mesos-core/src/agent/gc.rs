//! Garbage collection of the sandboxes (and checkpoints) of executors that ended, as
//! Mesos' agent does: each is removed `--gc_delay` after its executor ended, sooner when
//! the disk fills up. With the disk `usage` (0 to 1) of the work directory's filesystem,
//! the age past which a directory goes is `gc_delay × max(0, 1 − gc_disk_headroom − usage)`
//! (`--gc_disk_headroom`, Mesos default 0.1), checked every `--disk_watch_interval`.
//!
//! Pure bookkeeping: time and disk usage are inputs; the caller removes what [`due`]
//! returns.
//!
//! [`due`]: GarbageCollector::due

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Mesos' default `--gc_disk_headroom`.
pub const DEFAULT_DISK_HEADROOM: f64 = 0.1;

/// Directories waiting to be removed, with when their executors ended.
#[derive(Debug)]
pub struct GarbageCollector {
    gc_delay: Duration,
    headroom: f64,
    max_age: Duration,
    pending: Vec<(Instant, PathBuf)>,
}

impl GarbageCollector {
    /// A collector keeping directories `gc_delay` while the disk has room.
    pub fn new(gc_delay: Duration, headroom: f64) -> GarbageCollector {
        GarbageCollector {
            gc_delay,
            headroom,
            max_age: gc_delay,
            pending: Vec::new(),
        }
    }

    /// Schedules `path` for removal; its executor ended at `ended`.
    pub fn schedule(&mut self, path: PathBuf, ended: Instant) {
        self.pending.push((ended, path));
    }

    /// Takes a new disk usage (a fraction, 0 to 1) into account.
    pub fn disk_usage(&mut self, usage: f64) {
        let factor = (1.0 - self.headroom - usage.clamp(0.0, 1.0)).max(0.0);
        self.max_age = self.gc_delay.mul_f64(factor);
    }

    /// How old a directory may get now.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The directories due for removal at `now`, no longer tracked.
    pub fn due(&mut self, now: Instant) -> Vec<PathBuf> {
        let max_age = self.max_age;
        let (due, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(ended, _)| now.saturating_duration_since(*ended) >= max_age);
        self.pending = kept;
        due.into_iter().map(|(_, path)| path).collect()
    }

    /// How many directories wait.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// The used fraction of the filesystem holding `path` (`None` if it cannot be read).
pub fn disk_usage(path: &std::path::Path) -> Option<f64> {
    let stats = nix::sys::statvfs::statvfs(path).ok()?;
    let total = stats.blocks() as f64;
    if total <= 0.0 {
        return None;
    }
    Some(1.0 - stats.blocks_available() as f64 / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_go_after_the_delay() {
        let mut gc = GarbageCollector::new(Duration::from_secs(60), DEFAULT_DISK_HEADROOM);
        let t0 = Instant::now();
        gc.schedule(PathBuf::from("/a"), t0);
        gc.schedule(PathBuf::from("/b"), t0 + Duration::from_secs(30));
        assert!(gc.due(t0 + Duration::from_secs(59)).is_empty());
        assert_eq!(
            gc.due(t0 + Duration::from_secs(60)),
            vec![PathBuf::from("/a")]
        );
        assert_eq!(gc.pending(), 1);
        assert_eq!(
            gc.due(t0 + Duration::from_secs(90)),
            vec![PathBuf::from("/b")]
        );
        assert_eq!(gc.pending(), 0);
    }

    #[test]
    fn a_fuller_disk_shortens_the_delay() {
        let mut gc = GarbageCollector::new(Duration::from_secs(100), 0.1);
        gc.disk_usage(0.4);
        assert_eq!(gc.max_age(), Duration::from_secs(50));
        let t0 = Instant::now();
        gc.schedule(PathBuf::from("/a"), t0);
        assert_eq!(
            gc.due(t0 + Duration::from_secs(50)),
            vec![PathBuf::from("/a")]
        );
        gc.disk_usage(0.95);
        assert_eq!(gc.max_age(), Duration::ZERO);
        gc.disk_usage(0.0);
        assert_eq!(gc.max_age(), Duration::from_secs(90));
    }

    #[test]
    fn disk_usage_is_a_fraction() {
        let usage = disk_usage(std::path::Path::new("/")).expect("statvfs of /");
        assert!((0.0..=1.0).contains(&usage), "{usage}");
    }
}
