//! Archive detection and extraction that never writes outside its root directory.
//!
//! Extraction is two passes: a scan that validates every entry (names, symlink and hard link
//! targets, total size) without writing anything, then the writes. An archive with an unsafe
//! entry is therefore refused before any of its files exists. The write pass checks again,
//! on the file system, that no entry is written through a symlink (a sandbox may already hold
//! symlinks from an earlier URI).

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::uri::{safe_relative_path, symlink_target_is_safe};

/// An archive format recognised by file name, as Mesos' fetcher does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveKind {
    /// `.tar`
    Tar,
    /// `.tar.gz`, `.tgz`
    TarGz,
    /// `.tar.bz2`, `.tbz2`
    TarBz2,
    /// `.tar.xz`, `.txz`
    TarXz,
    /// `.zip`
    Zip,
    /// `.gz` (a single gzip-compressed file, decompressed to the name without `.gz`)
    Gz,
}

impl ArchiveKind {
    /// Recognises an archive by the suffix of its file name (case-sensitive, like Mesos).
    pub fn detect(file_name: &str) -> Option<ArchiveKind> {
        let ends = |s: &str| file_name.len() > s.len() && file_name.ends_with(s);
        if ends(".tar.gz") || ends(".tgz") {
            Some(ArchiveKind::TarGz)
        } else if ends(".tar.bz2") || ends(".tbz2") {
            Some(ArchiveKind::TarBz2)
        } else if ends(".tar.xz") || ends(".txz") {
            Some(ArchiveKind::TarXz)
        } else if ends(".tar") {
            Some(ArchiveKind::Tar)
        } else if ends(".zip") {
            Some(ArchiveKind::Zip)
        } else if ends(".gz") {
            Some(ArchiveKind::Gz)
        } else {
            None
        }
    }

    /// A short name of the format, e.g. `tar.gz`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveKind::Tar => "tar",
            ArchiveKind::TarGz => "tar.gz",
            ArchiveKind::TarBz2 => "tar.bz2",
            ArchiveKind::TarXz => "tar.xz",
            ArchiveKind::Zip => "zip",
            ArchiveKind::Gz => "gz",
        }
    }
}

/// Why an extraction failed; converted to a `FetchError` naming the URI by the caller.
#[derive(Debug)]
pub(crate) enum ExtractError {
    Unsafe { entry: String, reason: String },
    Corrupt(String),
    Io { context: String, source: io::Error },
    Limit(u64),
}

/// What an extraction produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extraction {
    /// Number of entries written (files, directories, links).
    pub entries: usize,
    /// Bytes of file content written.
    pub bytes: u64,
    /// For [`ArchiveKind::Gz`]: the decompressed file, which replaces the `.gz`.
    pub replaced_by: Option<PathBuf>,
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ExtractError {
    let context = context.into();
    move |source| ExtractError::Io { context, source }
}

/// Extracts `archive` (of format `kind`) into `root`, writing at most `limit` bytes of content.
pub(crate) fn extract(
    archive: &Path,
    kind: ArchiveKind,
    root: &Path,
    limit: Option<u64>,
) -> Result<Extraction, ExtractError> {
    match kind {
        ArchiveKind::Tar | ArchiveKind::TarGz | ArchiveKind::TarBz2 | ArchiveKind::TarXz => {
            let scan = scan_tar(open_tar(archive, kind)?)?;
            check_limit(scan.bytes, limit)?;
            let mut writer = Writer::new(root, limit);
            unpack_tar(open_tar(archive, kind)?, &mut writer)?;
            Ok(writer.finish(None))
        }
        ArchiveKind::Zip => extract_zip(archive, root, limit),
        ArchiveKind::Gz => gunzip(archive, limit),
    }
}

fn check_limit(bytes: u64, limit: Option<u64>) -> Result<(), ExtractError> {
    match limit {
        Some(limit) if bytes > limit => Err(ExtractError::Limit(limit)),
        _ => Ok(()),
    }
}

fn open_tar(
    archive: &Path,
    kind: ArchiveKind,
) -> Result<tar::Archive<Box<dyn Read>>, ExtractError> {
    let file = File::open(archive).map_err(io_err(format!("opening {}", archive.display())))?;
    let file = BufReader::new(file);
    let reader: Box<dyn Read> = match kind {
        ArchiveKind::TarGz => Box::new(flate2::read::MultiGzDecoder::new(file)),
        ArchiveKind::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        ArchiveKind::TarXz => Box::new(lzma_rust2::XzReader::new(file, true)),
        _ => Box::new(file),
    };
    Ok(tar::Archive::new(reader))
}

fn corrupt(e: io::Error) -> ExtractError {
    ExtractError::Corrupt(format!("reading archive: {e}"))
}

/// The result of validating every entry of an archive without writing anything.
#[derive(Debug, Default)]
struct Scan {
    symlinks: HashSet<PathBuf>,
    bytes: u64,
}

impl Scan {
    fn unsafe_entry(entry: &str, reason: impl Into<String>) -> ExtractError {
        ExtractError::Unsafe {
            entry: entry.to_string(),
            reason: reason.into(),
        }
    }

    /// Validates an entry's name; returns the normalised relative path. Only directories may
    /// have an empty name (the root itself, e.g. `./`).
    fn path(&self, name: &str, path: &Path, is_dir: bool) -> Result<PathBuf, ExtractError> {
        let rel = safe_relative_path(path).map_err(|r| Self::unsafe_entry(name, r))?;
        if rel.as_os_str().is_empty() && !is_dir {
            return Err(Self::unsafe_entry(name, "entry with an empty name"));
        }
        self.not_through_symlink(name, &rel)?;
        Ok(rel)
    }

    fn not_through_symlink(&self, name: &str, rel: &Path) -> Result<(), ExtractError> {
        let mut prefix = rel.parent();
        while let Some(p) = prefix {
            if self.symlinks.contains(p) {
                return Err(Self::unsafe_entry(
                    name,
                    format!("path goes through symlink '{}'", p.display()),
                ));
            }
            prefix = p.parent();
        }
        Ok(())
    }

    fn symlink(&mut self, name: &str, rel: PathBuf, target: &Path) -> Result<(), ExtractError> {
        symlink_target_is_safe(&rel, target).map_err(|r| Self::unsafe_entry(name, r))?;
        self.symlinks.insert(rel);
        Ok(())
    }

    fn hard_link(&self, name: &str, target: &Path) -> Result<(), ExtractError> {
        let target = safe_relative_path(target)
            .map_err(|r| Self::unsafe_entry(name, format!("hard link target: {r}")))?;
        if target.as_os_str().is_empty() {
            return Err(Self::unsafe_entry(name, "empty hard link target"));
        }
        self.not_through_symlink(name, &target)?;
        if self.symlinks.contains(&target) {
            return Err(Self::unsafe_entry(name, "hard link to a symlink"));
        }
        Ok(())
    }
}

fn scan_tar(mut archive: tar::Archive<Box<dyn Read>>) -> Result<Scan, ExtractError> {
    let mut scan = Scan::default();
    for entry in archive.entries().map_err(corrupt)? {
        let entry = entry.map_err(corrupt)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = entry.path().map_err(corrupt)?;
        let kind = entry.header().entry_type();
        let is_dir = !(kind.is_file() || kind.is_symlink() || kind.is_hard_link());
        let rel = scan.path(&name, &path, is_dir)?;
        match kind {
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(corrupt)?
                    .ok_or_else(|| Scan::unsafe_entry(&name, "symlink without a target"))?;
                if rel.as_os_str().is_empty() {
                    return Err(Scan::unsafe_entry(&name, "symlink replacing the root"));
                }
                scan.symlink(&name, rel, &target)?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(corrupt)?
                    .ok_or_else(|| Scan::unsafe_entry(&name, "hard link without a target"))?;
                scan.hard_link(&name, &target)?;
            }
            t if t.is_file() || t == tar::EntryType::GNUSparse => {
                scan.bytes = scan.bytes.saturating_add(entry.size());
            }
            _ => {}
        }
    }
    Ok(scan)
}

fn unpack_tar(
    mut archive: tar::Archive<Box<dyn Read>>,
    writer: &mut Writer<'_>,
) -> Result<(), ExtractError> {
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = safe_relative_path(&entry.path().map_err(corrupt)?)
            .map_err(|r| Scan::unsafe_entry(&name, r))?;
        let mode = entry.header().mode().ok();
        match entry.header().entry_type() {
            tar::EntryType::Directory => writer.dir(&name, &rel)?,
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(corrupt)?
                    .ok_or_else(|| Scan::unsafe_entry(&name, "symlink without a target"))?
                    .into_owned();
                writer.symlink(&name, &rel, &target)?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(corrupt)?
                    .ok_or_else(|| Scan::unsafe_entry(&name, "hard link without a target"))?;
                let target = safe_relative_path(&target)
                    .map_err(|r| Scan::unsafe_entry(&name, format!("hard link target: {r}")))?;
                writer.hard_link(&name, &rel, &target)?;
            }
            t if t.is_file() || t == tar::EntryType::GNUSparse => {
                writer.file(&name, &rel, &mut entry, mode)?;
            }
            // Devices, FIFOs and metadata entries are not extracted.
            _ => {}
        }
    }
    Ok(())
}

const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;
const MAX_SYMLINK_TARGET: u64 = 4096;

fn extract_zip(
    archive: &Path,
    root: &Path,
    limit: Option<u64>,
) -> Result<Extraction, ExtractError> {
    let file = File::open(archive).map_err(io_err(format!("opening {}", archive.display())))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| ExtractError::Corrupt(format!("reading zip: {e}")))?;
    let zip_err = |e: zip::result::ZipError| ExtractError::Corrupt(format!("reading zip: {e}"));

    // Pass 1: validate everything, reading only symlink targets.
    let mut scan = Scan::default();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(zip_err)?;
        let name = f.name().to_string();
        let rel = scan.path(&name, Path::new(&name), f.is_dir() && !is_zip_symlink(&f))?;
        if is_zip_symlink(&f) {
            let target = read_symlink_target(&mut f, &name)?;
            if rel.as_os_str().is_empty() {
                return Err(Scan::unsafe_entry(&name, "symlink replacing the root"));
            }
            scan.symlink(&name, rel, Path::new(&target))?;
        } else if !f.is_dir() {
            scan.bytes = scan.bytes.saturating_add(f.size());
        }
    }
    check_limit(scan.bytes, limit)?;

    // Pass 2: write.
    let mut writer = Writer::new(root, limit);
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(zip_err)?;
        let name = f.name().to_string();
        let rel = safe_relative_path(Path::new(&name)).map_err(|r| Scan::unsafe_entry(&name, r))?;
        if is_zip_symlink(&f) {
            let target = read_symlink_target(&mut f, &name)?;
            writer.symlink(&name, &rel, Path::new(&target))?;
        } else if f.is_dir() {
            writer.dir(&name, &rel)?;
        } else {
            let mode = f.unix_mode();
            writer.file(&name, &rel, &mut f, mode)?;
        }
    }
    Ok(writer.finish(None))
}

fn is_zip_symlink<R: Read>(f: &zip::read::ZipFile<'_, R>) -> bool {
    f.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK)
}

fn read_symlink_target(f: &mut impl Read, name: &str) -> Result<String, ExtractError> {
    let mut target = String::new();
    f.take(MAX_SYMLINK_TARGET + 1)
        .read_to_string(&mut target)
        .map_err(|e| ExtractError::Corrupt(format!("reading symlink '{name}': {e}")))?;
    if target.len() as u64 > MAX_SYMLINK_TARGET {
        return Err(Scan::unsafe_entry(name, "symlink target too long"));
    }
    Ok(target)
}

/// Decompresses `x.gz` into `x` beside it (through a temporary file) and removes `x.gz`,
/// like `gunzip -f`.
fn gunzip(archive: &Path, limit: Option<u64>) -> Result<Extraction, ExtractError> {
    let file_name = archive
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| ExtractError::Corrupt("archive has no UTF-8 file name".into()))?;
    let stem = file_name.strip_suffix(".gz").unwrap_or(file_name);
    if stem.is_empty() {
        return Err(ExtractError::Corrupt(
            "cannot name the decompressed file".into(),
        ));
    }
    let dir = archive.parent().unwrap_or(Path::new("."));
    let dest = dir.join(stem);
    let tmp = dir.join(format!(".{stem}.gunzip-{}.tmp", std::process::id()));
    let input = File::open(archive).map_err(io_err(format!("opening {}", archive.display())))?;
    let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(input));
    let result = (|| {
        let mut out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(io_err(format!("creating {}", tmp.display())))?;
        let bytes = copy_limited(&mut decoder, &mut out, limit, 0, &tmp)?;
        out.flush()
            .map_err(io_err(format!("writing {}", tmp.display())))?;
        fs::rename(&tmp, &dest).map_err(io_err(format!("renaming to {}", dest.display())))?;
        Ok(bytes)
    })();
    match result {
        Ok(bytes) => {
            fs::remove_file(archive).map_err(io_err(format!("removing {}", archive.display())))?;
            Ok(Extraction {
                entries: 1,
                bytes,
                replaced_by: Some(dest),
            })
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Copies `reader` to `out`, failing once `already + copied` exceeds `limit`. Read errors
/// mean a corrupt archive, write errors are I/O errors.
fn copy_limited(
    reader: &mut dyn Read,
    out: &mut File,
    limit: Option<u64>,
    already: u64,
    dest: &Path,
) -> Result<u64, ExtractError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut copied: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(corrupt(e)),
        };
        copied += n as u64;
        check_limit(already.saturating_add(copied), limit)?;
        out.write_all(&buf[..n])
            .map_err(io_err(format!("writing {}", dest.display())))?;
    }
}

/// Creates the directories leading to `rel` under `root` without following any symlink.
pub(crate) fn create_parents(root: &Path, rel: &Path) -> Result<(), ExtractError> {
    let name = rel.to_string_lossy().into_owned();
    Writer::new(root, None).parents(&name, rel)
}

/// Writes entries under `root`, refusing to follow any symlink on the way.
struct Writer<'a> {
    root: &'a Path,
    limit: Option<u64>,
    bytes: u64,
    entries: usize,
}

impl<'a> Writer<'a> {
    fn new(root: &'a Path, limit: Option<u64>) -> Self {
        Writer {
            root,
            limit,
            bytes: 0,
            entries: 0,
        }
    }

    fn finish(self, replaced_by: Option<PathBuf>) -> Extraction {
        Extraction {
            entries: self.entries,
            bytes: self.bytes,
            replaced_by,
        }
    }

    /// Creates the directories leading to `rel`, refusing existing symlinks and non-directories.
    fn parents(&self, name: &str, rel: &Path) -> Result<(), ExtractError> {
        let mut current = self.root.to_path_buf();
        let Some(parent) = rel.parent() else {
            return Ok(());
        };
        for component in parent.components() {
            current.push(component);
            self.ensure_dir(name, &current)?;
        }
        Ok(())
    }

    fn ensure_dir(&self, name: &str, path: &Path) -> Result<(), ExtractError> {
        match fs::symlink_metadata(path) {
            Ok(md) if md.file_type().is_symlink() => Err(Scan::unsafe_entry(
                name,
                format!("path goes through symlink {}", path.display()),
            )),
            Ok(md) if md.is_dir() => Ok(()),
            Ok(_) => Err(ExtractError::Corrupt(format!(
                "entry '{name}': {} exists and is not a directory",
                path.display()
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(io_err(format!("creating {}", path.display()))(e)),
            },
            Err(e) => Err(io_err(format!("inspecting {}", path.display()))(e)),
        }
    }

    /// Removes a non-directory at `path` so it can be replaced (never following a symlink).
    fn clear(&self, name: &str, path: &Path) -> Result<(), ExtractError> {
        match fs::symlink_metadata(path) {
            Ok(md) if md.is_dir() => Err(ExtractError::Corrupt(format!(
                "entry '{name}': {} exists and is a directory",
                path.display()
            ))),
            Ok(_) => fs::remove_file(path).map_err(io_err(format!("replacing {}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(format!("inspecting {}", path.display()))(e)),
        }
    }

    fn dir(&mut self, name: &str, rel: &Path) -> Result<(), ExtractError> {
        self.parents(name, rel)?;
        if !rel.as_os_str().is_empty() {
            self.ensure_dir(name, &self.root.join(rel))?;
        }
        self.entries += 1;
        Ok(())
    }

    fn file(
        &mut self,
        name: &str,
        rel: &Path,
        reader: &mut dyn Read,
        mode: Option<u32>,
    ) -> Result<(), ExtractError> {
        if rel.as_os_str().is_empty() {
            return Err(Scan::unsafe_entry(name, "file entry with an empty name"));
        }
        self.parents(name, rel)?;
        let dest = self.root.join(rel);
        self.clear(name, &dest)?;
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o600)
            .open(&dest)
            .map_err(io_err(format!("creating {}", dest.display())))?;
        let n = copy_limited(reader, &mut out, self.limit, self.bytes, &dest)?;
        self.bytes += n;
        // Permission bits only: never setuid/setgid/sticky from an archive.
        let mode = mode.map(|m| m & 0o777).filter(|m| *m != 0).unwrap_or(0o644);
        out.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io_err(format!("setting mode of {}", dest.display())))?;
        self.entries += 1;
        Ok(())
    }

    fn symlink(&mut self, name: &str, rel: &Path, target: &Path) -> Result<(), ExtractError> {
        if rel.as_os_str().is_empty() {
            return Err(Scan::unsafe_entry(name, "symlink replacing the root"));
        }
        symlink_target_is_safe(rel, target).map_err(|r| Scan::unsafe_entry(name, r))?;
        self.parents(name, rel)?;
        let dest = self.root.join(rel);
        self.clear(name, &dest)?;
        std::os::unix::fs::symlink(target, &dest)
            .map_err(io_err(format!("creating symlink {}", dest.display())))?;
        self.entries += 1;
        Ok(())
    }

    fn hard_link(&mut self, name: &str, rel: &Path, target: &Path) -> Result<(), ExtractError> {
        if rel.as_os_str().is_empty() || target.as_os_str().is_empty() {
            return Err(Scan::unsafe_entry(name, "hard link with an empty name"));
        }
        self.parents(name, rel)?;
        self.parents(name, target)?;
        let source = self.root.join(target);
        match fs::symlink_metadata(&source) {
            Ok(md) if md.is_file() => {}
            Ok(_) => {
                return Err(Scan::unsafe_entry(
                    name,
                    "hard link target is not a regular file",
                ))
            }
            Err(e) => return Err(io_err(format!("inspecting {}", source.display()))(e)),
        }
        let dest = self.root.join(rel);
        if dest == source {
            return Ok(());
        }
        self.clear(name, &dest)?;
        fs::hard_link(&source, &dest).map_err(io_err(format!("linking {}", dest.display())))?;
        self.entries += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_suffix() {
        assert_eq!(ArchiveKind::detect("a.tar"), Some(ArchiveKind::Tar));
        assert_eq!(ArchiveKind::detect("a.tar.gz"), Some(ArchiveKind::TarGz));
        assert_eq!(ArchiveKind::detect("a.tgz"), Some(ArchiveKind::TarGz));
        assert_eq!(ArchiveKind::detect("a.tar.bz2"), Some(ArchiveKind::TarBz2));
        assert_eq!(ArchiveKind::detect("a.tbz2"), Some(ArchiveKind::TarBz2));
        assert_eq!(ArchiveKind::detect("a.tar.xz"), Some(ArchiveKind::TarXz));
        assert_eq!(ArchiveKind::detect("a.txz"), Some(ArchiveKind::TarXz));
        assert_eq!(ArchiveKind::detect("a.zip"), Some(ArchiveKind::Zip));
        assert_eq!(ArchiveKind::detect("a.gz"), Some(ArchiveKind::Gz));
        assert_eq!(ArchiveKind::detect("a.txt"), None);
        assert_eq!(ArchiveKind::detect("a.ZIP"), None);
        assert_eq!(ArchiveKind::detect(".gz"), None);
        assert_eq!(ArchiveKind::detect("tar"), None);
    }

    fn tar_with(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            // Write the raw name so that unsafe names can be built.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if let Some(link) = link {
                let l = link.as_bytes();
                h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn extract_tar_bytes(bytes: &[u8], root: &Path) -> Result<Extraction, ExtractError> {
        let path = root.join("a.tar");
        fs::write(&path, bytes).unwrap();
        let dest = root.join("out");
        fs::create_dir(&dest).unwrap();
        extract(&path, ArchiveKind::Tar, &dest, None)
    }

    #[test]
    fn extracts_files_dirs_and_safe_links() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar_with(&[
            ("d/", tar::EntryType::Directory, b"", None),
            ("d/f.txt", tar::EntryType::Regular, b"hello", None),
            ("d/l", tar::EntryType::Symlink, b"", Some("f.txt")),
            ("h", tar::EntryType::Link, b"", Some("d/f.txt")),
        ]);
        let got = extract_tar_bytes(&tar, dir.path()).unwrap();
        assert_eq!(got.entries, 4);
        assert_eq!(got.bytes, 5);
        let out = dir.path().join("out");
        assert_eq!(fs::read(out.join("d/l")).unwrap(), b"hello");
        assert_eq!(fs::read(out.join("h")).unwrap(), b"hello");
    }

    #[test]
    fn refuses_unsafe_entries_before_writing() {
        let cases: Vec<Vec<u8>> = vec![
            tar_with(&[
                ("ok", tar::EntryType::Regular, b"x", None),
                ("../evil", tar::EntryType::Regular, b"x", None),
            ]),
            tar_with(&[
                ("ok", tar::EntryType::Regular, b"x", None),
                ("/tmp/evil", tar::EntryType::Regular, b"x", None),
            ]),
            tar_with(&[
                ("ok", tar::EntryType::Regular, b"x", None),
                ("l", tar::EntryType::Symlink, b"", Some("/etc")),
            ]),
            tar_with(&[
                ("ok", tar::EntryType::Regular, b"x", None),
                ("l", tar::EntryType::Symlink, b"", Some("..")),
            ]),
            tar_with(&[
                ("ok", tar::EntryType::Regular, b"x", None),
                ("d/l", tar::EntryType::Symlink, b"", Some(".")),
                ("d/l/x", tar::EntryType::Regular, b"x", None),
            ]),
            tar_with(&[
                ("ok", tar::EntryType::Regular, b"x", None),
                ("h", tar::EntryType::Link, b"", Some("../../etc/passwd")),
            ]),
        ];
        for (i, tar) in cases.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let err = extract_tar_bytes(tar, dir.path()).unwrap_err();
            assert!(
                matches!(err, ExtractError::Unsafe { .. }),
                "case {i}: {err:?}"
            );
            let out = dir.path().join("out");
            assert_eq!(
                fs::read_dir(&out).unwrap().count(),
                0,
                "case {i} wrote files"
            );
            assert!(!dir.path().join("evil").exists());
        }
    }

    #[test]
    fn refuses_file_entries_with_empty_names() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar_with(&[
            ("ok", tar::EntryType::Regular, b"x", None),
            ("./", tar::EntryType::Regular, b"x", None),
        ]);
        let err = extract_tar_bytes(&tar, dir.path()).unwrap_err();
        assert!(matches!(err, ExtractError::Unsafe { .. }), "{err:?}");
        assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 0);
    }

    #[test]
    fn refuses_writing_through_existing_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(outside.path(), out.join("link")).unwrap();
        let tar = tar_with(&[("link/x", tar::EntryType::Regular, b"x", None)]);
        let path = dir.path().join("a.tar");
        fs::write(&path, tar).unwrap();
        let err = extract(&path, ArchiveKind::Tar, &out, None).unwrap_err();
        assert!(matches!(err, ExtractError::Unsafe { .. }), "{err:?}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn replaces_existing_symlink_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        fs::write(&victim, b"original").unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&victim, out.join("f")).unwrap();
        let tar = tar_with(&[("f", tar::EntryType::Regular, b"new", None)]);
        let path = dir.path().join("a.tar");
        fs::write(&path, tar).unwrap();
        extract(&path, ArchiveKind::Tar, &out, None).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"original");
        assert_eq!(fs::read(out.join("f")).unwrap(), b"new");
    }

    #[test]
    fn enforces_extracted_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar_with(&[("big", tar::EntryType::Regular, &[0u8; 1000], None)]);
        let path = dir.path().join("a.tar");
        fs::write(&path, tar).unwrap();
        let err = extract(&path, ArchiveKind::Tar, dir.path(), Some(999)).unwrap_err();
        assert!(matches!(err, ExtractError::Limit(999)));
        assert!(!dir.path().join("big").exists());
    }

    #[test]
    fn corrupt_archives_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar.gz");
        fs::write(&path, b"this is not gzip").unwrap();
        let err = extract(&path, ArchiveKind::TarGz, dir.path(), None).unwrap_err();
        assert!(matches!(err, ExtractError::Corrupt(_)), "{err:?}");
        let path = dir.path().join("a.zip");
        fs::write(&path, b"this is not zip").unwrap();
        let err = extract(&path, ArchiveKind::Zip, dir.path(), None).unwrap_err();
        assert!(matches!(err, ExtractError::Corrupt(_)), "{err:?}");
    }
}
