//! Pure URI and path logic: where a URI is fetched from and where it lands in the sandbox.

use std::path::{Component, Path, PathBuf};

/// Where a URI's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `http://` or `https://`.
    Http(reqwest::Url),
    /// `file://` or a plain path, resolved to an absolute local path.
    Local(PathBuf),
}

/// Why a URI cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UriProblem {
    Invalid(String),
    UnsupportedScheme(String),
}

/// Classifies `value` (a `CommandInfo.URI.value`). Relative plain paths are resolved against
/// `frameworks_home`, as Mesos' `--frameworks_home` does.
pub(crate) fn parse_source(
    value: &str,
    frameworks_home: Option<&Path>,
) -> Result<Source, UriProblem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(UriProblem::Invalid("empty URI".into()));
    }
    if let Some(idx) = value.find("://") {
        let scheme = value[..idx].to_ascii_lowercase();
        let valid_scheme = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid_scheme {
            return Err(UriProblem::Invalid(format!("malformed scheme '{scheme}'")));
        }
        return match scheme.as_str() {
            "http" | "https" => reqwest::Url::parse(value)
                .map(Source::Http)
                .map_err(|e| UriProblem::Invalid(e.to_string())),
            "file" => {
                let rest = &value[idx + 3..];
                // file:///abs/path or file://localhost/abs/path
                let path = if rest.starts_with('/') {
                    rest
                } else if let Some(p) = rest.strip_prefix("localhost") {
                    p
                } else {
                    return Err(UriProblem::Invalid(
                        "file:// URIs must name a local absolute path (file:///path)".into(),
                    ));
                };
                if !path.starts_with('/') {
                    return Err(UriProblem::Invalid(
                        "file:// URIs must name a local absolute path (file:///path)".into(),
                    ));
                }
                Ok(Source::Local(PathBuf::from(path)))
            }
            _ => Err(UriProblem::UnsupportedScheme(scheme)),
        };
    }
    let path = Path::new(value);
    if path.is_absolute() {
        Ok(Source::Local(path.to_path_buf()))
    } else if let Some(home) = frameworks_home {
        Ok(Source::Local(home.join(path)))
    } else {
        Err(UriProblem::Invalid(
            "relative path without a frameworks home (give an absolute path or a URI)".into(),
        ))
    }
}

/// The file name a source is saved under when no `output_file` is given: the last path
/// segment of an HTTP URL, or the local file's name.
pub(crate) fn default_file_name(source: &Source) -> Result<String, String> {
    let name = match source {
        Source::Http(url) => url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .unwrap_or("")
            .to_string(),
        Source::Local(path) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err("cannot derive a file name from the URI's path; set output_file".into());
    }
    Ok(name)
}

/// Checks that `p` is a non-empty relative path without `..` and returns it normalised
/// (without `.` components). Used for `output_file` and for archive entry names.
pub(crate) fn safe_relative_path(p: &Path) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for component in p.components() {
        match component {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains '..'".into()),
            Component::RootDir | Component::Prefix(_) => {
                return Err("path is absolute".into());
            }
        }
    }
    Ok(out)
}

/// Whether a symlink stored at relative path `link` (already safe) with target `target` stays
/// inside the extraction root. Only relative targets whose `..` components all come first
/// are accepted, so that the lexical check is exact as long as no entry is written through a
/// symlink (which extraction refuses separately).
pub(crate) fn symlink_target_is_safe(link: &Path, target: &Path) -> Result<(), String> {
    let mut depth: usize = link.parent().map(|p| p.components().count()).unwrap_or(0);
    let mut seen_normal = false;
    for component in target.components() {
        match component {
            Component::Normal(_) => {
                seen_normal = true;
                depth += 1;
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if seen_normal {
                    return Err("symlink target has '..' after a name".into());
                }
                if depth == 0 {
                    return Err("symlink target points outside the sandbox".into());
                }
                depth -= 1;
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err("symlink target is absolute".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert!(matches!(
            parse_source("http://h:80/a/b.tgz", None),
            Ok(Source::Http(_))
        ));
        assert!(matches!(
            parse_source("HTTPS://h/a", None),
            Ok(Source::Http(_))
        ));
        assert_eq!(
            parse_source("file:///tmp/x", None),
            Ok(Source::Local("/tmp/x".into()))
        );
        assert_eq!(
            parse_source("file://localhost/tmp/x", None),
            Ok(Source::Local("/tmp/x".into()))
        );
        assert!(matches!(
            parse_source("file://otherhost/tmp/x", None),
            Err(UriProblem::Invalid(_))
        ));
        assert_eq!(
            parse_source("/tmp/x", None),
            Ok(Source::Local("/tmp/x".into()))
        );
        assert_eq!(
            parse_source("rel/x", Some(Path::new("/home"))),
            Ok(Source::Local("/home/rel/x".into()))
        );
        assert!(matches!(
            parse_source("rel/x", None),
            Err(UriProblem::Invalid(_))
        ));
        assert_eq!(
            parse_source("hdfs://nn/x", None),
            Err(UriProblem::UnsupportedScheme("hdfs".into()))
        );
        assert_eq!(
            parse_source("S3://bucket/x", None),
            Err(UriProblem::UnsupportedScheme("s3".into()))
        );
        assert!(matches!(
            parse_source("", None),
            Err(UriProblem::Invalid(_))
        ));
        assert!(matches!(
            parse_source("://x", None),
            Err(UriProblem::Invalid(_))
        ));
        assert!(matches!(
            parse_source("http://", None),
            Err(UriProblem::Invalid(_))
        ));
    }

    #[test]
    fn default_names() {
        let name = |s: &str| default_file_name(&parse_source(s, None).unwrap());
        assert_eq!(name("http://h/a/b.tar.gz?x=1#f"), Ok("b.tar.gz".into()));
        assert_eq!(name("http://h/a/../c.txt"), Ok("c.txt".into()));
        assert!(name("http://h/").is_err());
        assert!(name("http://h").is_err());
        assert!(name("http://h/a/").is_err());
        assert_eq!(name("/tmp/f.zip"), Ok("f.zip".into()));
        assert!(name("/").is_err());
    }

    #[test]
    fn relative_paths() {
        assert_eq!(safe_relative_path(Path::new("a/./b")), Ok("a/b".into()));
        assert!(safe_relative_path(Path::new("../a")).is_err());
        assert!(safe_relative_path(Path::new("a/../../b")).is_err());
        assert!(safe_relative_path(Path::new("/etc/passwd")).is_err());
        assert_eq!(safe_relative_path(Path::new("./")), Ok(PathBuf::new()));
    }

    #[test]
    fn symlink_targets() {
        let ok = |l: &str, t: &str| symlink_target_is_safe(Path::new(l), Path::new(t));
        assert!(ok("a", "b").is_ok());
        assert!(ok("d/a", "../b").is_ok());
        assert!(ok("d/e/a", "../../b/c").is_ok());
        assert!(ok("a", "../b").is_err());
        assert!(ok("d/a", "../../b").is_err());
        assert!(ok("a", "/etc/passwd").is_err());
        assert!(ok("d/a", "b/../../x").is_err());
        assert!(ok("a", ".").is_ok());
    }
}
