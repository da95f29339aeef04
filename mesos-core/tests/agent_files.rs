//! The agent's files endpoints (`mesos_core::agent::files::routes`) served on 127.0.0.1
//! over a temp sandbox and driven by a real HTTP client: browse, read paging, download,
//! and the 400/403/404 answers, checked against Apache Mesos' recorded answers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_core::agent::files::{routes, Files, MAX_READ_LENGTH};
use mesos_core::http::HttpServer;
use serde_json::Value as Json;

/// The virtual path the sandbox is also attached under, as the agent attaches `latest`.
const LATEST: &str = "/slaves/S0/frameworks/F0/executors/E0/runs/latest";

/// A served registry with a sandbox attached under its real path and [`LATEST`], plus a
/// directory beside the sandbox that must stay unreachable.
struct Served {
    server: HttpServer,
    sandbox: PathBuf,
    _top: tempfile::TempDir,
}

impl Served {
    async fn start() -> Served {
        let top = tempfile::tempdir().unwrap();
        let sandbox = top.path().join("sandbox").canonicalize_or_make();
        std::fs::write(sandbox.join("stdout"), b"hello world\n").unwrap();
        std::fs::write(sandbox.join("stderr"), b"").unwrap();
        std::fs::create_dir(sandbox.join("logs")).unwrap();
        std::fs::write(top.path().join("secret"), b"not yours").unwrap();
        std::os::unix::fs::symlink(top.path().join("secret"), sandbox.join("escape")).unwrap();
        let files = Files::new();
        files.attach(sandbox.to_str().unwrap(), &sandbox).unwrap();
        files.attach(LATEST, &sandbox).unwrap();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = HttpServer::bind(addr, routes(files)).await.unwrap();
        Served {
            server,
            sandbox,
            _top: top,
        }
    }

    /// GETs `path_and_query`, answering the status, the headers and the body.
    async fn get(&self, path_and_query: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let url = format!("http://{}{}", self.server.local_addr(), path_and_query);
        let response = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    /// GETs `path_and_query` and parses the 200 answer as JSON.
    async fn get_json(&self, path_and_query: &str) -> Json {
        let (status, headers, body) = self.get(path_and_query).await;
        assert_eq!(
            status,
            200,
            "{path_and_query}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(headers["content-type"], "application/json");
        serde_json::from_slice(&body).unwrap()
    }
}

/// Creating the sandbox and taking its real path in one step.
trait MakeDir {
    fn canonicalize_or_make(self) -> PathBuf;
}

impl MakeDir for PathBuf {
    fn canonicalize_or_make(self) -> PathBuf {
        std::fs::create_dir_all(&self).unwrap();
        self.canonicalize().unwrap()
    }
}

/// The Apache Mesos fixture `name` under `agent/`, if present.
fn fixture(name: &str) -> Option<Json> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/apache-mesos/agent")
        .join(name);
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

/// The JSON type of every key of an object, for comparing shapes.
fn shape(value: &Json) -> Vec<(String, &'static str)> {
    let kind = |v: &Json| match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "integer",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    };
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), kind(v)))
        .collect()
}

#[tokio::test]
async fn browse_lists_the_sandbox_like_mesos() {
    let served = Served::start().await;
    let real = served.sandbox.display().to_string();
    let listing = served.get_json(&format!("/files/browse?path={real}")).await;
    let entries = listing.as_array().unwrap();
    let paths: Vec<&str> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            format!("{real}/logs"),
            format!("{real}/stderr"),
            format!("{real}/stdout"),
        ]
    );
    let stdout = &entries[2];
    assert_eq!(stdout["size"], 12);
    assert_eq!(stdout["nlink"], 1);
    assert!(stdout["mode"].as_str().unwrap().starts_with("-rw"));
    assert!(entries[0]["mode"].as_str().unwrap().starts_with('d'));
    if let Some(expected) = fixture("files_browse.json") {
        assert_eq!(shape(stdout), shape(&expected[0]));
    } else {
        eprintln!("SKIPPED: no Apache Mesos files_browse.json fixture to compare with");
    }

    let latest = served
        .get_json(&format!("/files/browse.json?path={LATEST}/"))
        .await;
    assert_eq!(latest[2]["path"], format!("{LATEST}/stdout"));
    let file = served
        .get_json(&format!("/files/browse?path={LATEST}/stdout"))
        .await;
    assert_eq!(file, Json::Array(Vec::new()));
}

#[tokio::test]
async fn read_pages_through_a_file_like_mesos() {
    let served = Served::start().await;
    let stdout = format!("{LATEST}/stdout");
    let end = served.get_json(&format!("/files/read?path={stdout}")).await;
    assert_eq!(end, serde_json::json!({"data": "", "offset": 12}));
    let end = served
        .get_json(&format!("/files/read?path={stdout}&offset=-1"))
        .await;
    assert_eq!(end["offset"], 12);
    let page = served
        .get_json(&format!("/files/read.json?path={stdout}&offset=6&length=5"))
        .await;
    assert_eq!(page, serde_json::json!({"data": "world", "offset": 6}));
    let rest = served
        .get_json(&format!("/files/read?path={stdout}&offset=6&length=-1"))
        .await;
    assert_eq!(rest["data"], "world\n");
    let past = served
        .get_json(&format!("/files/read?path={stdout}&offset=100"))
        .await;
    assert_eq!(past, serde_json::json!({"data": "", "offset": 100}));
    if let Some(expected) = fixture("files_read_stdout.json") {
        assert_eq!(shape(&page), shape(&expected));
    } else {
        eprintln!("SKIPPED: no Apache Mesos files_read_stdout.json fixture to compare with");
    }

    std::fs::write(served.sandbox.join("big"), vec![b'a'; 100_000]).unwrap();
    let capped = served
        .get_json(&format!("/files/read?path={LATEST}/big&offset=0"))
        .await;
    assert_eq!(
        capped["data"].as_str().unwrap().len() as u64,
        MAX_READ_LENGTH
    );
}

#[tokio::test]
async fn bad_reads_answer_400_with_a_reason() {
    let served = Served::start().await;
    for query in [
        format!("path={LATEST}/stdout&offset=-2"),
        format!("path={LATEST}/stdout&offset=x"),
        format!("path={LATEST}/stdout&offset=0&length=-5"),
        format!("path={LATEST}/logs&offset=0"),
        "offset=0".to_string(),
    ] {
        let (status, headers, body) = served.get(&format!("/files/read?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        assert!(!body.is_empty(), "{query}: no reason");
    }
}

#[tokio::test]
async fn download_sends_the_file_as_an_attachment() {
    let served = Served::start().await;
    let (status, headers, body) = served
        .get(&format!("/files/download?path={LATEST}/stdout"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, b"hello world\n");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=stdout"
    );

    std::fs::write(served.sandbox.join("large"), vec![7u8; 300_000]).unwrap();
    let (status, _, body) = served
        .get(&format!("/files/download?path={LATEST}/large"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), 300_000);

    let (status, _, _) = served
        .get(&format!("/files/download?path={LATEST}/logs"))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn unknown_and_escaping_paths_expose_nothing() {
    let served = Served::start().await;
    let (status, _, _) = served
        .get(&format!("/files/read?path={LATEST}/nothing&offset=0"))
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = served.get("/files/browse?path=/not/attached").await;
    assert_eq!(status, 404);
    let (status, _, body) = served
        .get(&format!(
            "/files/download?path={LATEST}/../../../../../../secret"
        ))
        .await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = served
        .get(&format!("/files/read?path={LATEST}/escape&offset=0"))
        .await;
    assert_eq!(status, 403);
    assert!(!String::from_utf8_lossy(&body).contains("not yours"));
    let parent = served.sandbox.parent().unwrap().display().to_string();
    let (status, _, _) = served
        .get(&format!("/files/download?path={parent}/secret"))
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = served.get("/files/browse?path=/").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn debug_lists_attachments_and_other_methods_get_405() {
    let served = Served::start().await;
    let attached = served.get_json("/files/debug").await;
    assert_eq!(
        attached[LATEST].as_str().unwrap(),
        served.sandbox.display().to_string()
    );
    let url = format!("http://{}/files/browse?path=/", served.server.local_addr());
    let response = reqwest::Client::new().post(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
}
