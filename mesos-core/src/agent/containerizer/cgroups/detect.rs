//! Detection of the host's cgroup hierarchies from `/proc/self/mountinfo`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Controller;

/// The cgroup mounts found in a mountinfo table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mounts {
    /// cgroups v1: each known controller and the mount point of its hierarchy.
    pub v1: BTreeMap<Controller, PathBuf>,
    /// The first cgroups v2 (`cgroup2`) mount point, if any.
    pub v2: Option<PathBuf>,
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let oct = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(oct, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a `/proc/<pid>/mountinfo` table and returns its cgroup mounts.
///
/// Lines are `id parent major:minor root mountpoint options [optional...] - fstype source
/// superoptions`; v1 hierarchies name their controllers in the super options.
pub fn parse_mountinfo(text: &str) -> Mounts {
    let mut mounts = Mounts::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if fields.len() < 5 || fields.len() < sep + 4 {
            continue;
        }
        let mount_point = PathBuf::from(unescape(fields[4]));
        let fstype = fields[sep + 1];
        let super_opts = fields[sep + 3];
        match fstype {
            "cgroup2" if mounts.v2.is_none() => mounts.v2 = Some(mount_point),
            "cgroup" => {
                for opt in super_opts.split(',') {
                    if let Some(c) = Controller::from_name(opt) {
                        mounts.v1.entry(c).or_insert_with(|| mount_point.clone());
                    }
                }
            }
            _ => {}
        }
    }
    mounts
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_host() {
        let m = parse_mountinfo(HYBRID);
        assert_eq!(m.v2, Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(
            m.v1.get(&Controller::Cpu),
            Some(&PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(
            m.v1.get(&Controller::Cpuacct),
            Some(&PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(
            m.v1.get(&Controller::Memory),
            Some(&PathBuf::from("/sys/fs/cgroup/memory"))
        );
        assert!(!m.v1.contains_key(&Controller::Freezer));
    }

    #[test]
    fn v2_only_host_and_escapes() {
        let text = "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n\
                    26 1 0:23 / /mnt/with\\040space rw - cgroup cgroup rw,freezer\n\
                    garbage line\n";
        let m = parse_mountinfo(text);
        assert_eq!(m.v2, Some(PathBuf::from("/sys/fs/cgroup")));
        assert_eq!(
            m.v1.get(&Controller::Freezer),
            Some(&PathBuf::from("/mnt/with space"))
        );
    }
}
