//! End-to-end tests of the agent's fetcher: real HTTP on 127.0.0.1, real files, real archives.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_core::agent::fetcher::{fetch, ArchiveKind, FetchError, FetcherOptions};
use mesos_core::proto::mesos::v1::command_info::Uri;

// ---------------------------------------------------------------------------------------------
// Helpers

fn uri(value: &str) -> Uri {
    Uri {
        value: value.to_string(),
        ..Default::default()
    }
}

/// A test directory holding `sandbox/`, so that escapes into the parent can be detected.
struct Dirs {
    top: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Dirs {
        let top = tempfile::tempdir().unwrap();
        fs::create_dir(top.path().join("sandbox")).unwrap();
        Dirs { top }
    }
    fn sandbox(&self) -> PathBuf {
        self.top.path().join("sandbox")
    }
    fn top(&self) -> &Path {
        self.top.path()
    }
    /// Names in the top directory other than `sandbox` and files the test placed there.
    fn outside_entries(&self, allowed: &[&str]) -> Vec<String> {
        fs::read_dir(self.top())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "sandbox" && !allowed.contains(&n.as_str()))
            .collect()
    }
    fn sandbox_entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.sandbox())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn tar_gz(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    for (name, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_path(name).unwrap();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// A tar.gz with raw entry names (the tar crate's `set_path` refuses `..`).
/// `link` makes the entry a symlink to that target.
fn raw_tar_gz(entries: &[(&str, &[u8], Option<&str>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    for (name, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        let n = name.as_bytes();
        h.as_old_mut().name[..n.len()].copy_from_slice(n);
        h.set_mode(0o644);
        match link {
            Some(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                let t = target.as_bytes();
                h.as_old_mut().linkname[..t.len()].copy_from_slice(t);
                h.set_size(0);
            }
            None => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len() as u64);
            }
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn zip(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, mode) in files {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1 server on 127.0.0.1 serving fixed routes, one thread per connection.

#[derive(Clone)]
enum Route {
    /// 200 with Content-Length.
    Body(Vec<u8>),
    /// 200 without Content-Length: the body ends when the connection closes.
    Unsized(Vec<u8>),
    /// Accept the request, then never answer (for a bounded time).
    Hang,
}

struct Server {
    addr: String,
}

impl Server {
    fn start(routes: Vec<(&str, Route)>) -> Server {
        let routes: Arc<HashMap<String, Route>> = Arc::new(
            routes
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let routes = Arc::clone(&routes);
                std::thread::spawn(move || serve(stream, &routes));
            }
        });
        Server { addr }
    }
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }
}

fn serve(mut stream: TcpStream, routes: &HashMap<String, Route>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = path.split('?').next().unwrap_or("/").to_string();
    match routes.get(&path) {
        Some(Route::Body(body)) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
        Some(Route::Unsized(body)) => {
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(body);
        }
        Some(Route::Hang) => std::thread::sleep(Duration::from_secs(20)),
        None => {
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[tokio::test]
async fn http_plain_file() {
    let server = Server::start(vec![(
        "/files/hello.txt",
        Route::Body(b"hello world".to_vec()),
    )]);
    let dirs = Dirs::new();
    let got = fetch(
        &[uri(&server.url("/files/hello.txt?version=3"))],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, dirs.sandbox().join("hello.txt"));
    assert_eq!(got[0].size, 11);
    assert_eq!(got[0].extracted, None);
    assert!(!got[0].executable);
    assert_eq!(
        fs::read(dirs.sandbox().join("hello.txt")).unwrap(),
        b"hello world"
    );
    // No temporary file is left.
    assert_eq!(dirs.sandbox_entries(), vec!["hello.txt"]);
}

#[tokio::test]
async fn http_tar_gz_is_extracted() {
    let archive = tar_gz(&[
        ("app/run.sh", b"#!/bin/sh\necho hi\n", 0o755),
        ("app/conf/app.yml", b"a: 1\n", 0o644),
    ]);
    let server = Server::start(vec![("/app.tar.gz", Route::Body(archive))]);
    let dirs = Dirs::new();
    let got = fetch(
        &[uri(&server.url("/app.tar.gz"))],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got[0].extracted, Some(ArchiveKind::TarGz));
    let sb = dirs.sandbox();
    assert_eq!(
        fs::read(sb.join("app/run.sh")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    assert_eq!(mode(&sb.join("app/run.sh")), 0o755);
    assert_eq!(fs::read(sb.join("app/conf/app.yml")).unwrap(), b"a: 1\n");
    // The archive is kept, as Mesos does.
    assert!(sb.join("app.tar.gz").is_file());
}

#[tokio::test]
async fn http_zip_is_extracted() {
    let archive = zip(&[("bin/tool", b"tool", 0o755), ("data/x.txt", b"xxxx", 0o644)]);
    let server = Server::start(vec![("/bundle.zip", Route::Body(archive))]);
    let dirs = Dirs::new();
    let got = fetch(
        &[uri(&server.url("/bundle.zip"))],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got[0].extracted, Some(ArchiveKind::Zip));
    let sb = dirs.sandbox();
    assert_eq!(fs::read(sb.join("bin/tool")).unwrap(), b"tool");
    assert_eq!(mode(&sb.join("bin/tool")), 0o755);
    assert_eq!(fs::read(sb.join("data/x.txt")).unwrap(), b"xxxx");
}

#[tokio::test]
async fn http_extract_false_keeps_archive_packed() {
    let server = Server::start(vec![(
        "/a.tar.gz",
        Route::Body(tar_gz(&[("f", b"f", 0o644)])),
    )]);
    let dirs = Dirs::new();
    let mut u = uri(&server.url("/a.tar.gz"));
    u.extract = Some(false);
    let got = fetch(&[u], &dirs.sandbox(), FetcherOptions::default())
        .await
        .unwrap();
    assert_eq!(got[0].extracted, None);
    assert_eq!(dirs.sandbox_entries(), vec!["a.tar.gz"]);
}

#[tokio::test]
async fn http_404_is_an_error_with_status() {
    let server = Server::start(vec![]);
    let dirs = Dirs::new();
    let url = server.url("/missing.txt");
    let err = fetch(&[uri(&url)], &dirs.sandbox(), FetcherOptions::default())
        .await
        .unwrap_err();
    match &err {
        FetchError::HttpStatus { uri, status } => {
            assert_eq!(uri, &url);
            assert_eq!(*status, 404);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("404"));
    assert!(dirs.sandbox_entries().is_empty());
}

#[tokio::test]
async fn http_connection_refused_is_an_error() {
    // Bind and drop to get a port that is (almost certainly) closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dirs = Dirs::new();
    let err = fetch(
        &[uri(&format!("http://127.0.0.1:{port}/x"))],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::Http { .. }), "{err:?}");
    assert!(dirs.sandbox_entries().is_empty());
}

#[tokio::test]
async fn https_uses_rustls() {
    // A TLS handshake against a plain HTTP server fails: the error must come from TLS, not
    // from a client built without https support.
    let server = Server::start(vec![("/x", Route::Body(b"x".to_vec()))]);
    let url = server.url("/x").replacen("http://", "https://", 1);
    let dirs = Dirs::new();
    let options = FetcherOptions {
        timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    };
    let err = fetch(&[uri(&url)], &dirs.sandbox(), options)
        .await
        .unwrap_err();
    match &err {
        FetchError::Http { reason, .. } => {
            assert!(!reason.contains("scheme is not http"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(dirs.sandbox_entries().is_empty());
}

#[tokio::test]
async fn http_size_limit_by_content_length_and_by_stream() {
    let body = vec![7u8; 10_000];
    let server = Server::start(vec![
        ("/sized.bin", Route::Body(body.clone())),
        ("/unsized.bin", Route::Unsized(body)),
    ]);
    for path in ["/sized.bin", "/unsized.bin"] {
        let dirs = Dirs::new();
        let options = FetcherOptions {
            max_size: Some(4096),
            ..Default::default()
        };
        let err = fetch(&[uri(&server.url(path))], &dirs.sandbox(), options)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::SizeLimitExceeded { limit: 4096, .. }),
            "{path}: {err:?}"
        );
        assert!(
            dirs.sandbox_entries().is_empty(),
            "{path}: partial file left"
        );
    }
    // At the limit is fine.
    let dirs = Dirs::new();
    let options = FetcherOptions {
        max_size: Some(10_000),
        ..Default::default()
    };
    let got = fetch(
        &[uri(&server.url("/unsized.bin"))],
        &dirs.sandbox(),
        options,
    )
    .await
    .unwrap();
    assert_eq!(got[0].size, 10_000);
}

#[tokio::test]
async fn http_timeout_when_server_never_answers() {
    let server = Server::start(vec![("/slow.bin", Route::Hang)]);
    let dirs = Dirs::new();
    let options = FetcherOptions {
        timeout: Some(Duration::from_millis(500)),
        ..Default::default()
    };
    let start = Instant::now();
    let err = fetch(&[uri(&server.url("/slow.bin"))], &dirs.sandbox(), options)
        .await
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(dirs.sandbox_entries().is_empty());
}

#[tokio::test]
async fn http_url_without_file_name_needs_output_file() {
    let server = Server::start(vec![("/", Route::Body(b"index".to_vec()))]);
    let dirs = Dirs::new();
    let err = fetch(
        &[uri(&server.url("/"))],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::InvalidUri { .. }), "{err:?}");

    let mut u = uri(&server.url("/"));
    u.output_file = Some("index.html".into());
    let got = fetch(&[u], &dirs.sandbox(), FetcherOptions::default())
        .await
        .unwrap();
    assert_eq!(fs::read(&got[0].path).unwrap(), b"index");
}

// ---------------------------------------------------------------------------------------------
// Local files

#[tokio::test]
async fn local_file_uri_and_plain_path_are_copied() {
    let dirs = Dirs::new();
    let src = dirs.top().join("src.txt");
    fs::write(&src, b"local bytes").unwrap();
    let mut by_path = uri(src.to_str().unwrap());
    by_path.output_file = Some("copy.txt".into());
    let got = fetch(
        &[uri(&format!("file://{}", src.display())), by_path],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got[0].path, dirs.sandbox().join("src.txt"));
    assert_eq!(got[1].path, dirs.sandbox().join("copy.txt"));
    assert_eq!(
        fs::read(dirs.sandbox().join("src.txt")).unwrap(),
        b"local bytes"
    );
    assert_eq!(
        fs::read(dirs.sandbox().join("copy.txt")).unwrap(),
        b"local bytes"
    );
    assert_eq!(dirs.sandbox_entries(), vec!["copy.txt", "src.txt"]);
}

#[tokio::test]
async fn relative_path_uses_frameworks_home() {
    let dirs = Dirs::new();
    fs::create_dir(dirs.top().join("home")).unwrap();
    fs::write(dirs.top().join("home/fw.jar"), b"jar").unwrap();
    let options = FetcherOptions {
        frameworks_home: Some(dirs.top().join("home")),
        ..Default::default()
    };
    let got = fetch(&[uri("fw.jar")], &dirs.sandbox(), options)
        .await
        .unwrap();
    assert_eq!(fs::read(&got[0].path).unwrap(), b"jar");
    let err = fetch(&[uri("fw.jar")], &dirs.sandbox(), FetcherOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::InvalidUri { .. }), "{err:?}");
}

#[tokio::test]
async fn output_file_in_subdirectory() {
    let dirs = Dirs::new();
    let src = dirs.top().join("cfg");
    fs::write(&src, b"k=v").unwrap();
    let mut u = uri(src.to_str().unwrap());
    u.output_file = Some("conf/deep/app.properties".into());
    let got = fetch(&[u], &dirs.sandbox(), FetcherOptions::default())
        .await
        .unwrap();
    assert_eq!(got[0].path, dirs.sandbox().join("conf/deep/app.properties"));
    assert_eq!(fs::read(&got[0].path).unwrap(), b"k=v");
}

#[tokio::test]
async fn output_file_escaping_the_sandbox_is_refused() {
    let dirs = Dirs::new();
    let src = dirs.top().join("src");
    fs::write(&src, b"x").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dirs.sandbox().join("link")).unwrap();
    let abs = outside.path().join("abs").display().to_string();
    for bad in [
        "../escaped",
        "a/../../escaped",
        abs.as_str(),
        "link/escaped",
    ] {
        let mut u = uri(src.to_str().unwrap());
        u.output_file = Some(bad.to_string());
        let err = fetch(&[u], &dirs.sandbox(), FetcherOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::InvalidOutputFile { .. }),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains(bad), "{err}");
    }
    assert_eq!(dirs.outside_entries(&["src"]), Vec::<String>::new());
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(dirs.sandbox_entries(), vec!["link"]);
}

#[tokio::test]
async fn executable_sets_mode_and_skips_extraction() {
    let dirs = Dirs::new();
    let script = dirs.top().join("run.sh");
    fs::write(&script, b"#!/bin/sh\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o600)).unwrap();
    let packed = dirs.top().join("tool.tar.gz");
    fs::write(&packed, tar_gz(&[("inner", b"i", 0o644)])).unwrap();
    let mut a = uri(script.to_str().unwrap());
    a.executable = Some(true);
    let mut b = uri(packed.to_str().unwrap());
    b.executable = Some(true);
    let got = fetch(&[a, b], &dirs.sandbox(), FetcherOptions::default())
        .await
        .unwrap();
    assert!(got[0].executable && got[1].executable);
    assert_eq!(mode(&dirs.sandbox().join("run.sh")), 0o755);
    assert_eq!(mode(&dirs.sandbox().join("tool.tar.gz")), 0o755);
    assert_eq!(got[1].extracted, None);
    assert!(!dirs.sandbox().join("inner").exists());
}

#[tokio::test]
async fn gz_single_file_is_decompressed() {
    let dirs = Dirs::new();
    let src = dirs.top().join("data.csv.gz");
    fs::write(&src, gz(b"a,b\n1,2\n")).unwrap();
    let got = fetch(
        &[uri(src.to_str().unwrap())],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got[0].extracted, Some(ArchiveKind::Gz));
    assert_eq!(got[0].path, dirs.sandbox().join("data.csv"));
    assert_eq!(fs::read(&got[0].path).unwrap(), b"a,b\n1,2\n");
    // Like gunzip, the .gz is replaced.
    assert_eq!(dirs.sandbox_entries(), vec!["data.csv"]);
}

#[tokio::test]
async fn tar_bz2_and_plain_tar_are_extracted() {
    let dirs = Dirs::new();
    let mut plain = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path("p.txt").unwrap();
    h.set_size(1);
    h.set_mode(0o644);
    h.set_cksum();
    plain.append(&h, &b"p"[..]).unwrap();
    let plain = plain.into_inner().unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&plain).unwrap();
    let bz = bz.finish().unwrap();
    fs::write(dirs.top().join("x.tar"), &plain).unwrap();
    fs::write(dirs.top().join("y.tbz2"), &bz).unwrap();
    let mut y = uri(dirs.top().join("y.tbz2").to_str().unwrap());
    y.output_file = Some("sub/y.tar.bz2".into());
    let got = fetch(
        &[uri(dirs.top().join("x.tar").to_str().unwrap()), y],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got[0].extracted, Some(ArchiveKind::Tar));
    assert_eq!(got[1].extracted, Some(ArchiveKind::TarBz2));
    assert_eq!(fs::read(dirs.sandbox().join("p.txt")).unwrap(), b"p");
    // Extracted beside the archive, i.e. into the output_file's directory.
    assert_eq!(fs::read(dirs.sandbox().join("sub/p.txt")).unwrap(), b"p");
}

#[tokio::test]
async fn non_archive_with_extract_is_kept() {
    let dirs = Dirs::new();
    let src = dirs.top().join("notes.md");
    fs::write(&src, b"# notes").unwrap();
    let got = fetch(
        &[uri(src.to_str().unwrap())],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got[0].extracted, None);
    assert_eq!(fs::read(&got[0].path).unwrap(), b"# notes");
}

#[tokio::test]
async fn tar_xz_is_extracted_and_corrupt_xz_is_an_error() {
    let dirs = Dirs::new();
    let mut plain = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path("dir/x.txt").unwrap();
    h.set_size(2);
    h.set_mode(0o600);
    h.set_cksum();
    plain.append(&h, &b"xz"[..]).unwrap();
    let plain = plain.into_inner().unwrap();
    let mut xz =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    xz.write_all(&plain).unwrap();
    let xz = xz.finish().unwrap();
    let src = dirs.top().join("a.txz");
    fs::write(&src, xz).unwrap();
    let got = fetch(
        &[uri(src.to_str().unwrap())],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(got[0].extracted, Some(ArchiveKind::TarXz));
    assert_eq!(fs::read(dirs.sandbox().join("dir/x.txt")).unwrap(), b"xz");
    assert_eq!(mode(&dirs.sandbox().join("dir/x.txt")), 0o600);

    let bad = dirs.top().join("bad.tar.xz");
    fs::write(&bad, b"not xz at all").unwrap();
    let err = fetch(
        &[uri(bad.to_str().unwrap())],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::Archive { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Path traversal

async fn assert_refused(dirs: &Dirs, archive_name: &str, bytes: Vec<u8>) {
    let src = dirs.top().join(archive_name);
    fs::write(&src, bytes).unwrap();
    let err = fetch(
        &[uri(src.to_str().unwrap())],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, FetchError::UnsafeArchive { .. }),
        "{archive_name}: {err:?}"
    );
    assert!(err.to_string().contains(src.to_str().unwrap()), "{err}");
    // Nothing escaped, and nothing of the archive was extracted: only the archive itself.
    assert_eq!(dirs.outside_entries(&[archive_name]), Vec::<String>::new());
    assert_eq!(dirs.sandbox_entries(), vec![archive_name.to_string()]);
}

#[tokio::test]
async fn tar_gz_with_dot_dot_entry_is_refused() {
    let dirs = Dirs::new();
    let bytes = raw_tar_gz(&[("good.txt", b"good", None), ("../evil", b"evil", None)]);
    assert_refused(&dirs, "evil.tar.gz", bytes).await;
    assert!(!dirs.top().join("evil").exists());
}

#[tokio::test]
async fn tar_gz_with_absolute_entry_is_refused() {
    let dirs = Dirs::new();
    let target = dirs.top().join("abs-evil");
    let bytes = raw_tar_gz(&[
        ("ok", b"ok", None),
        (target.to_str().unwrap(), b"evil", None),
    ]);
    assert_refused(&dirs, "abs.tgz", bytes).await;
    assert!(!target.exists());
}

#[tokio::test]
async fn tar_gz_with_escaping_symlink_is_refused() {
    let dirs = Dirs::new();
    let bytes = raw_tar_gz(&[("ok", b"ok", None), ("up", b"", Some("../"))]);
    assert_refused(&dirs, "link.tar.gz", bytes).await;
    let dirs = Dirs::new();
    let bytes = raw_tar_gz(&[("etc", b"", Some("/etc")), ("etc/x", b"x", None)]);
    assert_refused(&dirs, "abs-link.tar.gz", bytes).await;
    // A symlink that stays inside is fine, but writing through it is not.
    let dirs = Dirs::new();
    let bytes = raw_tar_gz(&[("d/self", b"", Some(".")), ("d/self/x", b"x", None)]);
    assert_refused(&dirs, "through.tar.gz", bytes).await;
}

#[tokio::test]
async fn zip_with_traversal_entries_is_refused() {
    let dirs = Dirs::new();
    let bytes = zip(&[("good.txt", b"good", 0o644), ("../evil", b"evil", 0o644)]);
    assert_refused(&dirs, "evil.zip", bytes).await;
    assert!(!dirs.top().join("evil").exists());

    let dirs = Dirs::new();
    let target = dirs.top().join("abs-evil");
    let bytes = zip(&[(target.to_str().unwrap(), b"evil", 0o644)]);
    assert_refused(&dirs, "abs.zip", bytes).await;
    assert!(!target.exists());
}

#[tokio::test]
async fn zip_with_escaping_symlink_is_refused() {
    let dirs = Dirs::new();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.add_symlink("out", "../..", zip::write::SimpleFileOptions::default())
        .unwrap();
    let bytes = w.finish().unwrap().into_inner();
    assert_refused(&dirs, "link.zip", bytes).await;
}

// ---------------------------------------------------------------------------------------------
// Errors and limits

#[tokio::test]
async fn unsupported_schemes_are_refused() {
    let dirs = Dirs::new();
    for value in [
        "hdfs://namenode/x.tgz",
        "s3://bucket/key",
        "ftp://h/f",
        "s3a://b/k",
    ] {
        let err = fetch(&[uri(value)], &dirs.sandbox(), FetcherOptions::default())
            .await
            .unwrap_err();
        match &err {
            FetchError::UnsupportedScheme { uri, .. } => assert_eq!(uri, value),
            other => panic!("{value}: {other:?}"),
        }
        assert!(err.to_string().contains(value));
    }
    assert!(dirs.sandbox_entries().is_empty());
}

#[tokio::test]
async fn local_size_limit_and_missing_file() {
    let dirs = Dirs::new();
    let src = dirs.top().join("big.bin");
    fs::write(&src, vec![1u8; 2048]).unwrap();
    let options = FetcherOptions {
        max_size: Some(1024),
        ..Default::default()
    };
    let err = fetch(&[uri(src.to_str().unwrap())], &dirs.sandbox(), options)
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::SizeLimitExceeded { limit: 1024, .. }),
        "{err:?}"
    );
    let missing = dirs.top().join("missing.bin");
    let err = fetch(
        &[uri(&format!("file://{}", missing.display()))],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.bin"));
    assert!(dirs.sandbox_entries().is_empty());
}

#[tokio::test]
async fn extracted_size_limit() {
    let dirs = Dirs::new();
    let src = dirs.top().join("bomb.tar.gz");
    fs::write(&src, tar_gz(&[("zeros", &vec![0u8; 1 << 20], 0o644)])).unwrap();
    let options = FetcherOptions {
        max_extracted_size: Some(1 << 16),
        ..Default::default()
    };
    let err = fetch(&[uri(src.to_str().unwrap())], &dirs.sandbox(), options)
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::ExtractLimitExceeded { .. }),
        "{err:?}"
    );
    assert!(!dirs.sandbox().join("zeros").exists());
}

#[tokio::test]
async fn fetch_stops_at_first_failure() {
    let dirs = Dirs::new();
    let a = dirs.top().join("a.txt");
    let c = dirs.top().join("c.txt");
    fs::write(&a, b"a").unwrap();
    fs::write(&c, b"c").unwrap();
    let err = fetch(
        &[
            uri(a.to_str().unwrap()),
            uri("hdfs://nn/b"),
            uri(c.to_str().unwrap()),
        ],
        &dirs.sandbox(),
        FetcherOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.uri(), Some("hdfs://nn/b"));
    assert_eq!(dirs.sandbox_entries(), vec!["a.txt"]);
}
