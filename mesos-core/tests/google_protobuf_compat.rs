//! Our protobuf bytes against Google's protobuf runtime, both ways.
//!
//! `tests/python/protobuf_compat.py` builds message classes at run time from our compiled
//! schema (`proto::FILE_DESCRIPTOR_SET`) with Google's Python `protobuf` package. For every
//! test message:
//!   1. we encode it with prost; Google's runtime decodes the bytes (no unknown fields, every
//!      required field present) and its `MessageToDict` must say what our JSON says;
//!   2. Google's runtime serializes what it decoded; we decode those bytes with
//!      `protobuf::decode` and must get our message back;
//!   3. for the Apache Mesos fixtures, Google's `json_format.ParseDict` also reads the
//!      fixture JSON itself and serializes it; we decode those bytes and must get what we
//!      read from the same JSON.
//!
//! The messages: what a real Apache Mesos sent, read from `shared/fixtures/apache-mesos`
//! OUTSIDE this repository (`../shared/` beside the checkout; when absent those cases are
//! skipped with a printed reason), and a few built here by hand.
//!
//! Needs `python3` with `protobuf` (`scripts/install-test-deps.sh`). Without it the test
//! prints `SKIPPED: <why>` and passes, unless `MESOS_REQUIRE_PYTHON_DEPS=1`, which
//! `scripts/test.sh` sets, makes it fail.

use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mesos_core::proto::mesos::v1::{
    self as v1, agent, framework_info, master, offer, resource, scheduler, task_status, value,
};
use mesos_core::{json, proto, protobuf};
use prost::{Message, Name};
use serde_json::{json, Value};

mod common;

use common::{differences, workspace, REQUIRE};

/// Reads `shared/` outside the repository; `None` (with a printed reason) when it is absent.
fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/apache-mesos"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: no Apache Mesos fixtures at {} (shared/ is not beside the checkout)",
            dir.display()
        );
        None
    }
}

/// Whether `python3` can import Google's runtime; panics instead of skipping when required.
fn google_runtime_available() -> bool {
    let reason = match Command::new("python3")
        .args([
            "-c",
            "from google.protobuf import json_format, message_factory, unknown_fields",
        ])
        .output()
    {
        Ok(out) if out.status.success() => return true,
        Ok(out) => format!(
            "python3 cannot import Google's protobuf runtime (run scripts/install-test-deps.sh): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("python3 cannot be run: {e}"),
    };
    if std::env::var(REQUIRE).as_deref() == Ok("1") {
        panic!("{REQUIRE}=1 but {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    false
}

type Check = Box<dyn Fn(&[u8]) -> Result<(), String>>;

/// One message to send through Google's runtime.
struct Case {
    name: String,
    type_name: String,
    /// Our bytes (prost).
    bytes: Vec<u8>,
    /// Our JSON of the message.
    ours: Value,
    /// JSON for Google's `ParseDict` to read, where proto3's parser can read it.
    parse: Option<Value>,
    /// Decodes bytes from Google with `protobuf::decode` and compares with our message.
    check: Check,
}

fn case<T>(name: impl Into<String>, message: T, parse: Option<Value>) -> Case
where
    T: Message + Name + Default + PartialEq + Debug + 'static,
{
    let ours = json::to_value(&message);
    let bytes = message.encode_to_vec();
    let expected_json = ours.clone();
    Case {
        name: name.into(),
        type_name: T::full_name(),
        bytes,
        ours,
        parse,
        check: Box::new(move |bytes| {
            let decoded: T = protobuf::decode(bytes).map_err(|e| e.to_string())?;
            if decoded == message {
                Ok(())
            } else {
                Err(format!(
                    "decodes to a different message; JSON differences: {:?}",
                    differences(&T::full_name(), &expected_json, &json::to_value(&decoded))
                ))
            }
        }),
    }
}

/// A case from Mesos JSON: we read it (must succeed), Google reads the same JSON.
fn fixture_case<T>(name: impl Into<String>, mesos: &Value) -> Result<Case, String>
where
    T: Message + Name + Default + PartialEq + Debug + 'static,
{
    let name = name.into();
    let message: T =
        json::from_value(mesos).map_err(|e| format!("{name}: we cannot read it: {e}"))?;
    // Nothing may be lost between Mesos' JSON and ours.
    let lost = differences(&T::full_name(), mesos, &json::to_value(&message));
    if !lost.is_empty() {
        return Err(format!("{name}: our JSON differs from Mesos': {lost:?}"));
    }
    Ok(case(name, message, Some(mesos.clone())))
}

/// What Apache Mesos (1.12 head) wrote that the 1.11 v1 schema has no place for: `QUOTA_V2`
/// in `MasterInfo.Capability.Type` (1.11 has it in v0 only) and `checkpoint` in `AgentInfo`
/// (v0 `SlaveInfo`'s field). Removed before the comparison and listed in `removed`. The
/// test separately checks that Google's parser rejects the original, i.e. that these really
/// are outside the schema.
fn strip_outside_schema(value: &mut Value, path: &str, removed: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if path.ends_with(".agent_info") && map.remove("checkpoint").is_some() {
                removed.push(format!("{path}.checkpoint"));
            }
            if path.ends_with(".master_info") {
                if let Some(Value::Array(capabilities)) = map.get_mut("capabilities") {
                    let before = capabilities.len();
                    capabilities.retain(|c| c["type"] != "QUOTA_V2");
                    if capabilities.len() != before {
                        removed.push(format!("{path}.capabilities[QUOTA_V2]"));
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                strip_outside_schema(child, &format!("{path}.{key}"), removed);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                strip_outside_schema(item, &format!("{path}[{i}]"), removed);
            }
        }
        _ => {}
    }
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if text.iter().all(u8::is_ascii_whitespace) {
        // master_GET_METRICS.json is empty: the capture got no answer. Nothing to compare.
        eprintln!("note: {} is empty, not a message", path.display());
        return None;
    }
    Some(serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The fixture cases, plus the (name, type, raw JSON) of fixtures that Google's strict
/// parser must reject because `strip_outside_schema` had to remove something from them.
fn fixture_cases(
    dir: &Path,
    failures: &mut Vec<String>,
) -> (Vec<Case>, Vec<(String, String, Value)>) {
    let mut cases = Vec::new();
    let mut outside_schema = Vec::new();
    let mut add = |name: String, type_name: &str, raw: Value, failures: &mut Vec<String>| {
        let mut clean = raw.clone();
        let mut removed = Vec::new();
        strip_outside_schema(&mut clean, "", &mut removed);
        if !removed.is_empty() {
            eprintln!("note: {name}: outside the 1.11 v1 schema, removed {removed:?}");
            outside_schema.push((name.clone(), type_name.to_string(), raw));
        }
        let made = match type_name {
            "scheduler.Event" => fixture_case::<scheduler::Event>(name, &clean),
            "scheduler.Call" => fixture_case::<scheduler::Call>(name, &clean),
            "master.Response" => fixture_case::<master::Response>(name, &clean),
            "agent.Response" => fixture_case::<agent::Response>(name, &clean),
            other => unreachable!("{other}"),
        };
        match made {
            Ok(case) => cases.push(case),
            Err(e) => failures.push(e),
        }
    };

    if let Some(Value::Array(events)) = read_json(&dir.join("scheduler/events.json")) {
        for (i, event) in events.into_iter().enumerate() {
            let name = format!(
                "scheduler/events.json[{i}] {}",
                event["type"].as_str().unwrap_or("?")
            );
            add(name, "scheduler.Event", event, failures);
        }
    } else {
        failures.push("scheduler/events.json is not an array of events".into());
    }
    if let Some(call) = read_json(&dir.join("scheduler/accept_call.json")) {
        add(
            "scheduler/accept_call.json".into(),
            "scheduler.Call",
            call,
            failures,
        );
    }
    let mut operator: Vec<PathBuf> = std::fs::read_dir(dir.join("operator"))
        .expect("operator fixtures")
        .map(|e| e.expect("dir entry").path())
        .collect();
    operator.sort();
    for path in operator {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let type_name = if file.starts_with("master_") && file.ends_with(".json") {
            "master.Response"
        } else if file.starts_with("agent_") && file.ends_with(".json") {
            "agent.Response"
        } else {
            continue; // bad_*: error answers, not messages
        };
        if let Some(response) = read_json(&path) {
            add(format!("operator/{file}"), type_name, response, failures);
        }
    }
    (cases, outside_schema)
}

fn text(value: &str) -> String {
    value.to_string()
}

/// Messages built here, with what fixtures do not have.
fn hand_built_cases() -> Vec<Case> {
    let framework_id = v1::FrameworkId {
        value: text("fw-0001"),
    };
    let agent_id = v1::AgentId {
        value: text("agent-S1"),
    };

    let subscribe = scheduler::Call {
        framework_id: Some(framework_id.clone()),
        r#type: Some(scheduler::call::Type::Subscribe as i32),
        subscribe: Some(scheduler::call::Subscribe {
            framework_info: v1::FrameworkInfo {
                user: text("root"),
                name: text("hand-built"),
                id: Some(framework_id.clone()),
                failover_timeout: Some(86400.5),
                checkpoint: Some(true),
                roles: vec![text("web"), text("web/batch")],
                capabilities: [
                    framework_info::capability::Type::MultiRole,
                    framework_info::capability::Type::PartitionAware,
                    framework_info::capability::Type::ReservationRefinement,
                ]
                .into_iter()
                .map(|t| framework_info::Capability {
                    r#type: Some(t as i32),
                })
                .collect(),
                labels: Some(v1::Labels {
                    labels: vec![v1::Label {
                        key: text("k"),
                        value: Some(text("ü ✓")),
                    }],
                }),
                ..Default::default()
            },
            suppressed_roles: vec![text("web/batch")],
            ..Default::default()
        }),
        ..Default::default()
    };

    let status = v1::TaskStatus {
        task_id: v1::TaskId {
            value: text("task-7"),
        },
        state: v1::TaskState::TaskFailed as i32,
        message: Some(text("exit 1")),
        source: Some(task_status::Source::Executor as i32),
        reason: Some(task_status::Reason::CommandExecutorFailed as i32),
        data: Some(vec![0x00, 0xff, 0x10, b'\n', 0x80]),
        agent_id: Some(agent_id.clone()),
        timestamp: Some(1_700_000_000.125),
        uuid: Some((0u8..16).map(|b| b.wrapping_mul(17)).collect()),
        healthy: Some(false),
        ..Default::default()
    };

    let reservation =
        |role: &str, kind: resource::reservation_info::Type| resource::ReservationInfo {
            r#type: Some(kind as i32),
            role: Some(text(role)),
            principal: Some(text("ops")),
            ..Default::default()
        };
    let offer = v1::Offer {
        id: v1::OfferId {
            value: text("offer-1"),
        },
        framework_id: framework_id.clone(),
        agent_id: agent_id.clone(),
        hostname: text("agent1.example.com"),
        resources: vec![
            v1::Resource {
                name: text("ports"),
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges {
                    range: vec![
                        value::Range {
                            begin: 31000,
                            end: 32000,
                        },
                        value::Range {
                            begin: u64::from(u32::MAX) + 7,
                            end: u64::MAX - 1,
                        },
                    ],
                }),
                allocation_info: Some(resource::AllocationInfo {
                    role: Some(text("web/batch")),
                }),
                reservations: vec![
                    reservation("web", resource::reservation_info::Type::Static),
                    reservation("web/batch", resource::reservation_info::Type::Dynamic),
                ],
                ..Default::default()
            },
            v1::Resource {
                name: text("cpus"),
                r#type: value::Type::Scalar as i32,
                scalar: Some(value::Scalar { value: 2.5 }),
                ..Default::default()
            },
            v1::Resource {
                name: text("disks"),
                r#type: value::Type::Set as i32,
                set: Some(value::Set {
                    item: vec![text("sda"), text("sdb")],
                }),
                ..Default::default()
            },
        ],
        attributes: vec![v1::Attribute {
            name: text("rack"),
            r#type: value::Type::Text as i32,
            text: Some(value::Text { value: text("r1") }),
            ..Default::default()
        }],
        ..Default::default()
    };

    let drain = master::Call {
        r#type: Some(master::call::Type::DrainAgent as i32),
        drain_agent: Some(master::call::DrainAgent {
            agent_id: agent_id.clone(),
            max_grace_period: Some(prost_types::Duration {
                seconds: 90,
                nanos: 500_000_000,
            }),
            mark_gone: Some(true),
        }),
        ..Default::default()
    };

    let launch = scheduler::Call {
        framework_id: Some(framework_id),
        r#type: Some(scheduler::call::Type::Accept as i32),
        accept: Some(scheduler::call::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: vec![offer::Operation {
                r#type: Some(offer::operation::Type::Reserve as i32),
                reserve: Some(offer::operation::Reserve {
                    resources: offer.resources.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            filters: Some(v1::Filters {
                refuse_seconds: Some(0.25),
            }),
        }),
        ..Default::default()
    };

    // Google's ParseDict also reads our JSON of each, except the Duration: Mesos writes it
    // as {"seconds", "nanos"}, proto3's parser only takes "90.500s".
    vec![
        case(
            "hand-built scheduler.Call SUBSCRIBE",
            subscribe.clone(),
            Some(json::to_value(&subscribe)),
        ),
        case(
            "hand-built TaskStatus",
            status.clone(),
            Some(json::to_value(&status)),
        ),
        case(
            "hand-built Offer",
            offer.clone(),
            Some(json::to_value(&offer)),
        ),
        case(
            "hand-built scheduler.Call ACCEPT",
            launch.clone(),
            Some(json::to_value(&launch)),
        ),
        case("hand-built master.Call DRAIN_AGENT", drain, None),
    ]
}

/// Sends `requests` to protobuf_compat.py, returns its results.
fn run_google(requests: &Value) -> Vec<Value> {
    let dir = std::env::temp_dir().join(format!(
        "mesos-core-protobuf-compat-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let descriptor_set = dir.join("mesos.desc");
    std::fs::write(&descriptor_set, proto::FILE_DESCRIPTOR_SET).expect("write descriptor set");

    let script = workspace().join("tests/python/protobuf_compat.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&descriptor_set)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run protobuf_compat.py");
    let input = serde_json::to_vec(requests).expect("requests");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("protobuf_compat.py");
    writer.join().expect("writer").expect("write requests");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("results JSON");
    let expected = requests.as_array().map_or(0, Vec::len);
    assert_eq!(results.len(), expected, "one result per request");
    results
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn comparison_rules_are_narrow() {
    // The allowed differences of `differences`, and nothing more.
    let none =
        |t: &str, a: Value, b: Value| assert!(differences(t, &a, &b).is_empty(), "{a} vs. {b}");
    let one =
        |t: &str, a: Value, b: Value| assert_eq!(differences(t, &a, &b).len(), 1, "{a} vs. {b}");
    let range = "mesos.v1.Value.Range";
    none(
        range,
        json!({"begin": 1, "end": 18446744073709551615u64}),
        json!({"begin": "1", "end": "18446744073709551615"}),
    );
    one(
        range,
        json!({"begin": 1, "end": 2}),
        json!({"begin": "1", "end": "3"}),
    );
    one(range, json!({"begin": 1, "end": 2}), json!({"begin": 1}));
    let scalar = "mesos.v1.Value.Scalar";
    none(scalar, json!({"value": 2.0}), json!({"value": 2}));
    none(scalar, json!({"value": "NaN"}), json!({"value": "NaN"}));
    one(scalar, json!({"value": 1.5}), json!({"value": 1}));
    let command = "mesos.v1.CommandInfo";
    none(command, json!({"shell": true, "uris": []}), json!({}));
    one(command, json!({"shell": false}), json!({}));
    one(command, json!({"value": "x"}), json!({}));
    let status = "mesos.v1.TaskStatus";
    one(
        status,
        json!({"state": "TASK_RUNNING"}),
        json!({"state": "TASK_FAILED"}),
    );
    one(status, json!({"uuid": "AAE="}), json!({"uuid": "AAI="}));
    one(status, json!({"nope": 1}), json!({"nope": 1}));
    let drain = "mesos.v1.master.Call.DrainAgent";
    none(
        drain,
        json!({"max_grace_period": {"seconds": 90, "nanos": 500000000}}),
        json!({"max_grace_period": "90.500s"}),
    );
    none(
        drain,
        json!({"max_grace_period": {"seconds": -1}}),
        json!({"max_grace_period": "-1s"}),
    );
    one(
        drain,
        json!({"max_grace_period": {"seconds": 90}}),
        json!({"max_grace_period": "90.5s"}),
    );
}

#[test]
fn our_bytes_and_googles_agree() {
    if !google_runtime_available() {
        return;
    }
    let mut failures = Vec::new();
    let mut cases = hand_built_cases();
    let mut outside_schema = Vec::new();
    if let Some(dir) = fixtures() {
        let (fixture_cases, outside) = fixture_cases(&dir, &mut failures);
        assert!(
            fixture_cases.len() + failures.len() >= 30,
            "only {} fixture messages found in {}",
            fixture_cases.len() + failures.len(),
            dir.display()
        );
        cases.extend(fixture_cases);
        outside_schema = outside;
    }

    let mut requests: Vec<Value> = cases
        .iter()
        .map(|case| {
            let mut request = json!({"type": case.type_name, "hex": hex(&case.bytes)});
            if let Some(parse) = &case.parse {
                request["json"] = parse.clone();
            }
            request
        })
        .collect();
    requests.extend(
        outside_schema.iter().map(
            |(_, type_name, raw)| json!({"type": format!("mesos.v1.{type_name}"), "json": raw}),
        ),
    );
    let results = run_google(&Value::Array(requests));

    for (case, result) in cases.iter().zip(&results) {
        let name = &case.name;
        if let Some(error) = result.get("decode_error") {
            failures.push(format!(
                "{name}: Google's runtime cannot decode our bytes: {error}"
            ));
            continue;
        }
        let google = &result["dict"];
        let different = differences(&case.type_name, &case.ours, google);
        if !different.is_empty() {
            failures.push(format!(
                "{name}: Google reads our bytes differently: {different:?}"
            ));
        }
        let reencoded = unhex(result["reencoded_hex"].as_str().unwrap_or_default());
        if let Err(e) = (case.check)(&reencoded) {
            failures.push(format!("{name}: Google's re-encoding of our bytes: {e}"));
        }
        if case.parse.is_some() {
            match (result.get("parsed_hex"), result.get("parse_error")) {
                (Some(Value::String(parsed)), _) => {
                    if let Err(e) = (case.check)(&unhex(parsed)) {
                        failures.push(format!("{name}: Google's bytes from the JSON: {e}"));
                    }
                }
                (_, error) => {
                    failures.push(format!("{name}: Google's ParseDict failed: {error:?}"))
                }
            }
        }
    }
    for ((name, _, _), result) in outside_schema.iter().zip(&results[cases.len()..]) {
        if result.get("parse_error").is_none() {
            failures.push(format!(
                "{name}: Google's strict parser read the unstripped JSON, so what \
                 strip_outside_schema removed is in the schema after all"
            ));
        }
    }

    eprintln!(
        "checked {} messages against Google's runtime ({} with fixture JSON parsed by Google)",
        cases.len(),
        cases.iter().filter(|c| c.parse.is_some()).count()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
