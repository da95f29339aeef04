//! ext4's top-directory hint (`chattr +T`, `FS_TOPDIR_FL`): the subdirectories of a
//! directory so marked are unrelated trees, so ext4's Orlov allocator spreads them over
//! the file system's block groups instead of packing them into their parent's.
//!
//! The agent marks each framework's `executors` directory: every executor's sandboxes then
//! start in a group of their own. Without it, every sandbox of an agent lands in the work
//! directory's group, where each new inode is found by scanning past the group's recently
//! deleted ones (ext4 without a journal skips inodes freed in the last seconds to minutes,
//! a buffer lookup each). There, each sandbox removed made the next launches slower
//! (BENCHMARKS.md, agent, session 26).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// `FS_TOPDIR_FL` of `linux/fs.h`.
const FS_TOPDIR_FL: libc::c_int = 0x0002_0000;

/// Marks directory `dir` as the top of unrelated trees. File systems without inode flags
/// (tmpfs) answer with an error, which callers may ignore: the mark is only a hint.
pub fn mark(dir: &Path) -> io::Result<()> {
    let dir = File::open(dir)?;
    let flags = inode_flags(&dir)?;
    if flags & FS_TOPDIR_FL != 0 {
        return Ok(());
    }
    let flags = flags | FS_TOPDIR_FL;
    // SAFETY: FS_IOC_SETFLAGS reads an int through the pointer, which points at `flags`,
    // alive for the call; the descriptor is open.
    if unsafe { libc::ioctl(dir.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The inode flags (`FS_*_FL`) of open file `file`.
fn inode_flags(file: &File) -> io::Result<libc::c_int> {
    let mut flags: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes an int through the pointer, which points at `flags`,
    // alive for the call; the descriptor is open.
    if unsafe { libc::ioctl(file.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags)
}

/// Whether directory `dir` carries the mark; `None` when its file system has no inode
/// flags.
#[cfg(test)]
pub(crate) fn is_marked(dir: &Path) -> Option<bool> {
    let flags = inode_flags(&File::open(dir).ok()?).ok()?;
    Some(flags & FS_TOPDIR_FL != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_marked_once_where_the_file_system_has_inode_flags() {
        let dir = tempfile::tempdir().unwrap();
        assert_ne!(
            is_marked(dir.path()),
            Some(true),
            "a new directory is not marked"
        );
        if let Err(e) = mark(dir.path()) {
            println!(
                "SKIPPED: {} takes no top-directory mark: {e}",
                dir.path().display()
            );
            return;
        }
        assert_eq!(is_marked(dir.path()), Some(true));
        mark(dir.path()).unwrap();
        assert_eq!(is_marked(dir.path()), Some(true));
    }

    #[test]
    fn marking_fails_with_an_error_without_inode_flags_or_without_the_directory() {
        let proc = Path::new("/proc/self");
        assert_eq!(is_marked(proc), None, "procfs has no inode flags");
        assert!(mark(proc).is_err());
        let dir = tempfile::tempdir().unwrap();
        let error = mark(&dir.path().join("missing")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
