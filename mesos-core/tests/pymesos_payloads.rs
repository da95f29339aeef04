//! What the real pymesos 0.3.15 client sends, against our codecs.
//!
//! `tests/python/capture_pymesos.py` drives pymesos' unmodified `MesosSchedulerDriver`
//! against a small master stand-in on 127.0.0.1 and saves the body of every scheduler call
//! it POSTs: SUBSCRIBE (new and re-subscribing), ACCEPT (launch; reserve + create), DECLINE,
//! ACKNOWLEDGE, REVIVE, SUPPRESS, KILL, RECONCILE, MESSAGE, REQUEST, the inverse-offer
//! calls, RECONCILE_OPERATIONS and TEARDOWN. (pymesos has no call for SHUTDOWN.) Each body
//! must read as a `scheduler::Call`, carry what the driver was asked to send, be written back
//! as the same JSON and survive a trip through protobuf bytes. pymesos' ACKNOWLEDGE_OPERATION_STATUS,
//! which Apache Mesos refuses, must be refused.
//!
//! Needs `python3` with pymesos 0.3.15 (`scripts/install-test-deps.sh`). Without them the
//! tests print `SKIPPED: <why>` and pass, unless `MESOS_REQUIRE_PYTHON_DEPS=1`, which
//! `scripts/test.sh` sets, makes them fail.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

use mesos_core::proto::mesos::v1::scheduler::{call, Call};
use mesos_core::proto::mesos::v1::{offer, resource, value, FrameworkInfo, Resource};
use mesos_core::{json, protobuf};
use prost::{Message, Name};
use serde_json::Value;

mod common;

use common::{differences, workspace, REQUIRE};

const FRAMEWORK_ID: &str = "4bd4e5a3-9e6f-4d7c-8a1e-1c1f2a0b0c0d-0000";
const AGENT_ID: &str = "4bd4e5a3-9e6f-4d7c-8a1e-1c1f2a0b0c0d-S0";
/// The status uuid the stand-in master streams (0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0).
const STATUS_UUID: [u8; 16] = [
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
];

/// Calls that a real Mesos master accepts; each must round-trip.
const ACCEPTED: &[&str] = &[
    "subscribe",
    "subscribe_with_framework_id",
    "accept_launch",
    "accept_operations",
    "decline",
    "acknowledge",
    "revive",
    "revive_roles",
    "suppress",
    "suppress_roles",
    "kill",
    "reconcile",
    "message",
    "request",
    "accept_inverse_offers",
    "decline_inverse_offers",
    "reconcile_operations",
    "teardown",
];

/// The captured bodies by name, captured once per test binary; `None` when skipped.
fn captured() -> Option<&'static BTreeMap<String, Vec<u8>>> {
    static CAPTURED: OnceLock<Option<BTreeMap<String, Vec<u8>>>> = OnceLock::new();
    CAPTURED.get_or_init(capture).as_ref()
}

fn skip(reason: String) -> Option<BTreeMap<String, Vec<u8>>> {
    if std::env::var(REQUIRE).as_deref() == Ok("1") {
        panic!("{REQUIRE}=1 but {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

fn capture() -> Option<BTreeMap<String, Vec<u8>>> {
    let probe = Command::new("python3")
        .args(["-c", "import pymesos; print(pymesos.__VERSION__)"])
        .output();
    match probe {
        Err(e) => return skip(format!("python3 cannot be run: {e}")),
        Ok(out) if !out.status.success() => {
            return skip(format!(
                "python3 cannot import pymesos (run scripts/install-test-deps.sh): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim() != "0.3.15" => {
            return skip(format!(
                "pymesos {} installed, these payloads are pymesos 0.3.15's",
                String::from_utf8_lossy(&out.stdout).trim()
            ))
        }
        Ok(_) => {}
    }

    let dir = std::env::temp_dir().join(format!(
        "mesos-core-pymesos-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    let script = workspace().join("tests/python/capture_pymesos.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .output()
        .expect("run capture_pymesos.py");
    assert!(
        out.status.success(),
        "{} failed:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bodies = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("capture dir") {
        let path = entry.expect("dir entry").path();
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            if let Some(stem) = name.strip_suffix(".json") {
                bodies.insert(
                    stem.to_string(),
                    std::fs::read(&path).expect("captured body"),
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some(bodies)
}

/// The captured call `name`, decoded; `None` when skipped.
fn call(name: &str) -> Option<Call> {
    let bodies = captured()?;
    let body = bodies
        .get(name)
        .unwrap_or_else(|| panic!("pymesos produced no {name}.json"));
    Some(json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{name}: {e}\npymesos sent: {}",
            String::from_utf8_lossy(body)
        )
    }))
}

fn scalar(resources: &[Resource], name: &str) -> f64 {
    resources
        .iter()
        .find(|r| r.name == name)
        .and_then(|r| r.scalar.as_ref())
        .map(|s| s.value)
        .unwrap_or_else(|| panic!("no scalar resource {name} in {resources:?}"))
}

fn framework_id_of(call: &Call) -> &str {
    &call.framework_id.as_ref().expect("framework_id").value
}

#[test]
fn pymesos_produced_every_call() {
    let Some(bodies) = captured() else { return };
    for name in ACCEPTED {
        assert!(bodies.contains_key(*name), "no {name}.json from pymesos");
    }
    assert!(bodies.contains_key("acknowledge_operation_status"));
    assert_eq!(bodies.len(), ACCEPTED.len() + 1, "{:?}", bodies.keys());
}

/// JSON -> Call -> JSON gives the same value; Call -> protobuf bytes -> Call gives the same
/// Call (with the required-field checks of `protobuf::decode`).
#[test]
fn every_call_round_trips_through_json_and_protobuf() {
    let Some(bodies) = captured() else { return };
    for name in ACCEPTED {
        let body = &bodies[*name];
        let original: Value = serde_json::from_slice(body).expect("pymesos sends JSON");
        let call = call(name).expect("captured");
        assert_ne!(call.r#type(), call::Type::Unknown, "{name}");
        assert_eq!(
            call.r#type().as_str_name(),
            original["type"].as_str().expect("type"),
            "{name}"
        );

        let ours = json::to_value(&call);
        let different = differences(&Call::full_name(), &original, &ours);
        assert!(
            different.is_empty(),
            "{name}: our JSON differs from what pymesos sent: {different:?}\n\
             pymesos: {original}\nours:    {ours}"
        );

        let bytes = call.encode_to_vec();
        let decoded: Call = protobuf::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, call, "{name}: protobuf round trip");
    }
}

#[test]
fn subscribe_carries_framework_info() {
    let Some(call) = call("subscribe") else {
        return;
    };
    assert_eq!(call.r#type(), call::Type::Subscribe);
    assert!(call.framework_id.is_none(), "a new framework has no id");
    let info: &FrameworkInfo = &call.subscribe.as_ref().expect("subscribe").framework_info;
    assert_eq!(info.user, "root");
    assert_eq!(info.name, "pymesos-capture");
    assert_eq!(info.hostname.as_deref(), Some("localhost"));
    assert!(info.id.is_none());
    // pymesos adds these on its own: failover_timeout 100 and, for masters >= 1.0,
    // the GPU_RESOURCES capability.
    assert_eq!(info.failover_timeout, Some(100.0));
    let capabilities: Vec<_> = info.capabilities.iter().map(|c| c.r#type()).collect();
    assert_eq!(
        capabilities,
        [mesos_core::proto::mesos::v1::framework_info::capability::Type::GpuResources]
    );
}

#[test]
fn resubscribe_carries_framework_id_and_capabilities() {
    use mesos_core::proto::mesos::v1::framework_info::capability::Type as Capability;
    let Some(call) = call("subscribe_with_framework_id") else {
        return;
    };
    assert_eq!(call.r#type(), call::Type::Subscribe);
    assert_eq!(framework_id_of(&call), FRAMEWORK_ID);
    let info = &call.subscribe.as_ref().expect("subscribe").framework_info;
    assert_eq!(info.id.as_ref().expect("id").value, FRAMEWORK_ID);
    assert_eq!(info.roles, ["web", "batch"]);
    assert_eq!(info.failover_timeout, Some(604_800.0));
    assert_eq!(info.checkpoint, Some(true));
    assert_eq!(info.principal.as_deref(), Some("ops"));
    let capabilities: Vec<_> = info.capabilities.iter().map(|c| c.r#type()).collect();
    assert_eq!(
        capabilities,
        [
            Capability::MultiRole,
            Capability::PartitionAware,
            Capability::ReservationRefinement,
            Capability::GpuResources,
        ]
    );
    let labels = &info.labels.as_ref().expect("labels").labels;
    assert_eq!(labels[0].key, "owner");
    assert_eq!(labels[0].value.as_deref(), Some("capture"));
}

#[test]
fn accept_launches_a_task_with_scalars_and_port_ranges() {
    let Some(call) = call("accept_launch") else {
        return;
    };
    assert_eq!(call.r#type(), call::Type::Accept);
    assert_eq!(framework_id_of(&call), FRAMEWORK_ID);
    let accept = call.accept.as_ref().expect("accept");
    assert_eq!(accept.offer_ids.len(), 1);
    assert_eq!(accept.offer_ids[0].value, format!("{FRAMEWORK_ID}-O1"));
    assert_eq!(
        accept.filters.as_ref().and_then(|f| f.refuse_seconds),
        Some(5.0)
    );
    assert_eq!(accept.operations.len(), 1);
    let operation = &accept.operations[0];
    assert_eq!(operation.r#type(), offer::operation::Type::Launch);
    let task = &operation.launch.as_ref().expect("launch").task_infos[0];
    assert_eq!(task.name, "sleeper");
    assert_eq!(task.task_id.value, "task-1");
    assert_eq!(task.agent_id.value, AGENT_ID);
    let command = task.command.as_ref().expect("command");
    assert_eq!(command.value.as_deref(), Some("sleep 10"));
    assert_eq!(command.shell, Some(true));
    assert_eq!(command.uris[0].extract, Some(true));
    let variables = &command.environment.as_ref().expect("environment").variables;
    assert_eq!(variables[0].name, "GREETING");
    assert_eq!(scalar(&task.resources, "cpus"), 0.5);
    assert_eq!(scalar(&task.resources, "mem"), 128.0);
    let ports = task
        .resources
        .iter()
        .find(|r| r.name == "ports")
        .expect("ports");
    assert_eq!(ports.r#type(), value::Type::Ranges);
    let ranges: Vec<(u64, u64)> = ports
        .ranges
        .as_ref()
        .expect("ranges")
        .range
        .iter()
        .map(|r| (r.begin, r.end))
        .collect();
    assert_eq!(ranges, [(31000, 31001), (31005, 31005)]);
    for resource in &task.resources {
        let role = resource
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.as_deref());
        assert_eq!(role, Some("web"), "{}", resource.name);
    }
}

#[test]
fn accept_reserves_and_creates_a_volume() {
    let Some(call) = call("accept_operations") else {
        return;
    };
    assert_eq!(call.r#type(), call::Type::Accept);
    let accept = call.accept.as_ref().expect("accept");
    assert_eq!(accept.offer_ids.len(), 2);
    assert!(accept.filters.is_none());
    let types: Vec<_> = accept.operations.iter().map(|o| o.r#type()).collect();
    assert_eq!(
        types,
        [
            offer::operation::Type::Reserve,
            offer::operation::Type::Create
        ]
    );

    let reserved = &accept.operations[0]
        .reserve
        .as_ref()
        .expect("reserve")
        .resources;
    assert_eq!(scalar(reserved, "cpus"), 1.0);
    assert_eq!(scalar(reserved, "disk"), 64.0);
    for resource in reserved {
        assert_eq!(resource.reservations.len(), 1);
        let reservation = &resource.reservations[0];
        assert_eq!(
            reservation.r#type(),
            resource::reservation_info::Type::Dynamic
        );
        assert_eq!(reservation.role.as_deref(), Some("web"));
        assert_eq!(reservation.principal.as_deref(), Some("ops"));
    }

    let volume = &accept.operations[1]
        .create
        .as_ref()
        .expect("create")
        .volumes[0];
    let disk = volume.disk.as_ref().expect("disk");
    let persistence = disk.persistence.as_ref().expect("persistence");
    assert_eq!(persistence.id, "volume-1");
    assert_eq!(persistence.principal.as_deref(), Some("ops"));
    let container_volume = disk.volume.as_ref().expect("volume");
    assert_eq!(container_volume.container_path, "data");
    assert_eq!(
        container_volume.mode(),
        mesos_core::proto::mesos::v1::volume::Mode::Rw
    );
}

#[test]
fn decline_carries_a_filter() {
    let Some(call) = call("decline") else { return };
    assert_eq!(call.r#type(), call::Type::Decline);
    assert_eq!(framework_id_of(&call), FRAMEWORK_ID);
    let decline = call.decline.as_ref().expect("decline");
    assert_eq!(decline.offer_ids[0].value, format!("{FRAMEWORK_ID}-O1"));
    assert_eq!(
        decline.filters.as_ref().and_then(|f| f.refuse_seconds),
        Some(3600.0)
    );
}

/// pymesos acknowledges an UPDATE by echoing the status' base64 `uuid`; we read it back
/// as the raw 16 bytes the master put in the update.
#[test]
fn acknowledge_echoes_the_status_uuid() {
    let Some(call) = call("acknowledge") else {
        return;
    };
    assert_eq!(call.r#type(), call::Type::Acknowledge);
    assert_eq!(framework_id_of(&call), FRAMEWORK_ID);
    let ack = call.acknowledge.as_ref().expect("acknowledge");
    assert_eq!(ack.uuid, STATUS_UUID);
    assert_eq!(ack.task_id.value, "task-1");
    assert_eq!(ack.agent_id.value, AGENT_ID);
}

#[test]
fn revive_suppress_kill_reconcile_message_teardown() {
    let Some(revive) = call("revive") else { return };
    assert_eq!(revive.r#type(), call::Type::Revive);
    assert!(revive.revive.is_none());
    let revive_roles = call("revive_roles").expect("captured");
    assert_eq!(revive_roles.revive.expect("revive").roles, ["web"]);

    let suppress = call("suppress").expect("captured");
    assert_eq!(suppress.r#type(), call::Type::Suppress);
    assert!(suppress.suppress.is_none());
    let suppress_roles = call("suppress_roles").expect("captured");
    assert_eq!(
        suppress_roles.suppress.expect("suppress").roles,
        ["web", "batch"]
    );

    let kill = call("kill").expect("captured");
    assert_eq!(kill.r#type(), call::Type::Kill);
    let kill = kill.kill.expect("kill");
    assert_eq!(kill.task_id.value, "task-1");
    assert!(
        kill.agent_id.is_none(),
        "pymesos' killTask sends no agent_id"
    );

    let reconcile = call("reconcile").expect("captured");
    assert_eq!(reconcile.r#type(), call::Type::Reconcile);
    let tasks = reconcile.reconcile.expect("reconcile").tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].task_id.value, "task-1");
    assert!(
        tasks[0].agent_id.is_none(),
        "pymesos sends only the task ids"
    );

    let message = call("message").expect("captured");
    assert_eq!(message.r#type(), call::Type::Message);
    let message = message.message.expect("message");
    assert_eq!(message.data, b"ping\0");
    assert_eq!(message.executor_id.value, "executor-1");
    assert_eq!(message.agent_id.value, AGENT_ID);

    let teardown = call("teardown").expect("captured");
    assert_eq!(teardown.r#type(), call::Type::Teardown);
    assert_eq!(framework_id_of(&teardown), FRAMEWORK_ID);
}

#[test]
fn request_inverse_offers_and_operation_reconciliation() {
    let Some(request) = call("request") else {
        return;
    };
    assert_eq!(request.r#type(), call::Type::Request);
    let requests = request.request.expect("request").requests;
    assert_eq!(
        requests[0].agent_id.as_ref().expect("agent_id").value,
        AGENT_ID
    );
    assert_eq!(scalar(&requests[0].resources, "cpus"), 2.0);

    let accept = call("accept_inverse_offers").expect("captured");
    assert_eq!(accept.r#type(), call::Type::AcceptInverseOffers);
    let accept = accept.accept_inverse_offers.expect("accept_inverse_offers");
    assert_eq!(accept.inverse_offer_ids[0].value, "inverse-1");
    assert_eq!(
        accept.filters.as_ref().and_then(|f| f.refuse_seconds),
        Some(1.5)
    );

    let decline = call("decline_inverse_offers").expect("captured");
    assert_eq!(decline.r#type(), call::Type::DeclineInverseOffers);
    let decline = decline
        .decline_inverse_offers
        .expect("decline_inverse_offers");
    assert_eq!(decline.inverse_offer_ids[0].value, "inverse-1");

    let reconcile = call("reconcile_operations").expect("captured");
    assert_eq!(reconcile.r#type(), call::Type::ReconcileOperations);
    let operations = reconcile
        .reconcile_operations
        .expect("reconcile_operations")
        .operations;
    assert_eq!(operations[0].operation_id.value, "op-1");
    assert_eq!(
        operations[0].agent_id.as_ref().expect("agent_id").value,
        AGENT_ID
    );
}

/// pymesos acknowledges an operation status by echoing the whole `OperationStatus`: its
/// `uuid` is a `mesos.v1.UUID` object where `Call.AcknowledgeOperationStatus.uuid` is
/// `bytes`, and `state` is no field of the call. Apache Mesos answers 400 to this call; so
/// must our codec refuse it rather than guess.
#[test]
fn acknowledge_operation_status_is_refused_like_mesos_does() {
    let Some(bodies) = captured() else { return };
    let body = &bodies["acknowledge_operation_status"];
    let sent: Value = serde_json::from_slice(body).expect("JSON");
    let ack = &sent["acknowledge_operation_status"];
    assert!(
        ack["uuid"].is_object(),
        "pymesos changed what it sends: {sent}"
    );
    assert!(
        ack["state"].is_string(),
        "pymesos changed what it sends: {sent}"
    );
    let result = json::from_slice::<Call>(body);
    assert!(result.is_err(), "accepted a call Mesos refuses: {result:?}");
}
