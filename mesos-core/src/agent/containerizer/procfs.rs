//! Reading process trees and their usage from `/proc` (for the `posix/*` isolators).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::PathBuf;

/// The fields of `/proc/<pid>/stat` the isolators use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: i32,
    /// Parent process id.
    pub ppid: i32,
    /// Session id.
    pub session: i32,
    /// User mode time, clock ticks.
    pub utime: u64,
    /// Kernel mode time, clock ticks.
    pub stime: u64,
    /// Number of threads.
    pub num_threads: u64,
    /// Resident set size, pages.
    pub rss_pages: u64,
    /// When the process started, clock ticks after boot: with the pid, it names one
    /// process for good (a pid is reused, a pid and start time are not).
    pub start_time: u64,
}

/// Parses the content of `/proc/<pid>/stat`. The command name may contain spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field N is rest[N - 3].
    let field = |n: usize| rest.get(n - 3).and_then(|s| s.parse::<i64>().ok());
    Some(ProcStat {
        pid,
        ppid: field(4)? as i32,
        session: field(6)? as i32,
        utime: field(14)? as u64,
        stime: field(15)? as u64,
        num_threads: field(20)? as u64,
        rss_pages: field(24)?.max(0) as u64,
        start_time: field(22)? as u64,
    })
}

/// Reads `/proc/<pid>/stat`; `Ok(None)` if the process is gone.
pub fn read_stat(pid: i32) -> io::Result<Option<ProcStat>> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    match fs::read_to_string(&path) {
        Ok(text) => Ok(parse_stat(&text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Whether `pid` is a process that has not ended (a zombie has ended).
pub fn is_running(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.trim().chars().next());
            !matches!(state, Some('Z' | 'X'))
        }
        Err(_) => false,
    }
}

/// Every live process of session `session` (its leader's pid), from a scan of `/proc`.
pub fn session_members(session: i32) -> io::Result<Vec<i32>> {
    let mut members = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Ok(Some(stat)) = read_stat(pid) {
            if stat.session == session {
                members.push(pid);
            }
        }
    }
    Ok(members)
}

/// Every live process in the tree rooted at `root` (including it), from a scan of `/proc`.
pub fn process_tree(root: i32) -> io::Result<Vec<ProcStat>> {
    let mut all = BTreeMap::new();
    for entry in fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(stat) = read_stat(pid)? {
            all.insert(pid, stat);
        }
    }
    let mut in_tree = BTreeSet::new();
    if all.contains_key(&root) {
        in_tree.insert(root);
    }
    // Parents have lower pids most of the time but not always (pid wraparound): iterate to a
    // fixed point.
    loop {
        let before = in_tree.len();
        for s in all.values() {
            if in_tree.contains(&s.ppid) {
                in_tree.insert(s.pid);
            }
        }
        if in_tree.len() == before {
            break;
        }
    }
    Ok(in_tree.iter().filter_map(|p| all.get(p).copied()).collect())
}

/// A size of `/proc/<pid>/status` in bytes: `field` is its name with the colon, such as
/// `VmRSS:` (resident set) or `VmHWM:` (its high-water mark). `Ok(None)` if the process is
/// gone or the file has no such field.
pub fn status_bytes(pid: i32, field: &str) -> io::Result<Option<u64>> {
    let text = match fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    Ok(parse_status_bytes(&text, field))
}

/// The size `field` (`VmRSS:`, say) of a `/proc/<pid>/status` text, in bytes.
fn parse_status_bytes(text: &str, field: &str) -> Option<u64> {
    let value = text.lines().find_map(|l| l.strip_prefix(field))?;
    let kib = value
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kib * 1024)
}

/// Clock ticks per second (`_SC_CLK_TCK`).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Page size in bytes.
pub fn page_size() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sizes_are_read_in_bytes() {
        let text = "Name:\tmesos-master\nVmHWM:\t   20480 kB\nVmRSS:\t   12800 kB\nThreads:\t4\n";
        assert_eq!(parse_status_bytes(text, "VmRSS:"), Some(12800 * 1024));
        assert_eq!(parse_status_bytes(text, "VmHWM:"), Some(20480 * 1024));
        assert_eq!(parse_status_bytes(text, "VmSwap:"), None);
        assert_eq!(parse_status_bytes(text, "Threads:"), None);
        let own = status_bytes(std::process::id() as i32, "VmRSS:").unwrap();
        assert!(own.is_some_and(|bytes| bytes > 0), "{own:?}");
    }

    #[test]
    fn parses_stat_with_odd_names() {
        let text = "1234 (my (weird) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 \
                    250 30 0 0 20 0 3 0 100 1000000 512 18446744073709551615";
        let s = parse_stat(text).unwrap();
        assert_eq!(s.pid, 1234);
        assert_eq!(s.ppid, 1);
        assert_eq!(s.utime, 250);
        assert_eq!(s.stime, 30);
        assert_eq!(s.num_threads, 3);
        assert_eq!(s.rss_pages, 512);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn own_tree_contains_self() {
        let me = std::process::id() as i32;
        let tree = process_tree(me).unwrap();
        assert!(tree.iter().any(|s| s.pid == me));
    }
}
