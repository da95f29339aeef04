//! File-system steps that must survive a crash, shared by the durable logs (the master's
//! registry, the agent's status-update checkpoints): a new or renamed entry is durable
//! only once its directory is fsynced.

use std::fs::{self, File};
use std::io::{self, ErrorKind, Write};
use std::path::Path;

/// Fsyncs a directory, making the creation, rename or removal of its entries durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Creates `dir` and its missing ancestors, fsyncing the parent of each one created, so
/// the whole chain survives a crash.
pub(crate) fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.exists() {
        missing.push(at);
        match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => at = parent,
            _ => break,
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    for created in missing.iter().rev() {
        sync_dir(parent_of(created))?;
    }
    Ok(())
}

/// Replaces `path` with `contents` atomically and durably: a temp file beside it, fsync,
/// rename over the old file, fsync of the directory.
pub(crate) fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut temp_name = path.file_name().unwrap_or_default().to_os_string();
    temp_name.push(".tmp");
    let temp = path.with_file_name(temp_name);
    let mut file = File::create(&temp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, path)?;
    sync_dir(parent_of(path))
}

/// Reads a whole file, or `None` if it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Removes a file; whether it was there.
pub(crate) fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_nested_directories_and_reads_missing_files_as_none() {
        let root = tempfile::tempdir().expect("temp dir");
        let nested = root.path().join("a/b/c");
        create_dirs(&nested).expect("created");
        assert!(nested.is_dir());
        create_dirs(&nested).expect("creating again is fine");
        assert_eq!(read_if_exists(&nested.join("none")).expect("read"), None);
        assert!(!remove_if_exists(&nested.join("none")).expect("remove"));
        fs::write(nested.join("x"), b"1").expect("write");
        assert_eq!(
            read_if_exists(&nested.join("x")).expect("read"),
            Some(b"1".to_vec())
        );
        assert_eq!(parent_of(Path::new("file")), Path::new("."));
    }
}
