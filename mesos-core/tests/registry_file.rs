//! The file-backed registry on disk: durability across reopen, torn-tail repair, corruption
//! reports, compaction (and a crash in the middle of one), the directory lock.

use std::fs;
use std::path::Path;

use mesos_core::proto::mesos::v1::{AgentId, AgentInfo, MasterInfo, TimeInfo, WeightInfo};
use mesos_core::registry::{
    operation, FileRegistry, FileRegistryOptions, InMemoryRegistry, Operation, OperationError,
    Registry, RegistryError, RegistryState,
};

fn id(value: &str) -> AgentId {
    AgentId {
        value: value.into(),
    }
}

fn info(value: &str) -> AgentInfo {
    AgentInfo {
        hostname: format!("{value}.example.com"),
        port: Some(5051),
        id: Some(id(value)),
        ..Default::default()
    }
}

fn weight(role: &str, weight: f64) -> WeightInfo {
    WeightInfo {
        weight,
        role: Some(role.into()),
    }
}

fn open(dir: &Path) -> FileRegistry {
    let mut registry = FileRegistry::open(dir).expect("open registry");
    registry.recover().expect("recover registry");
    registry
}

fn reopen_state(dir: &Path) -> Result<RegistryState, RegistryError> {
    FileRegistry::open(dir)?.recover()
}

fn batches() -> Vec<Vec<Operation>> {
    vec![
        vec![Operation::UpdateMasterInfo(MasterInfo {
            id: "master-1".into(),
            ip: 0x0100_007f,
            port: 5050,
            hostname: Some("localhost".into()),
            ..Default::default()
        })],
        vec![
            Operation::AdmitAgent(info("a1")),
            Operation::AdmitAgent(info("a2")),
        ],
        vec![Operation::UpdateWeights(vec![weight("dev", 2.0)])],
        vec![Operation::MarkUnreachable(
            id("a2"),
            TimeInfo { nanoseconds: 1000 },
        )],
        vec![Operation::AdmitAgent(info("a3"))],
    ]
}

fn model(batches: &[Vec<Operation>]) -> RegistryState {
    batches.iter().fold(RegistryState::default(), |state, ops| {
        operation::apply_all(&state, ops).expect("valid batch")
    })
}

#[test]
fn fresh_registry_is_empty_and_state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = FileRegistry::dir_in(dir.path());
    let mut registry = open(&path);
    assert_eq!(registry.recover().unwrap(), RegistryState::default());
    for batch in batches() {
        registry.apply(batch).unwrap();
    }
    let expected = model(&batches());
    assert_eq!(registry.recover().unwrap(), expected);
    drop(registry);
    assert_eq!(reopen_state(&path).unwrap(), expected);
    // And again, after applying more on the reopened registry.
    let mut registry = open(&path);
    let state = registry
        .apply(vec![Operation::RemoveAgent(id("a1"))])
        .unwrap();
    assert!(!state.agents.contains_key("a1"));
    drop(registry);
    let state = reopen_state(&path).unwrap();
    assert_eq!(
        state.agents.keys().collect::<Vec<_>>(),
        vec!["a3"],
        "{state:?}"
    );
}

#[test]
fn apply_before_recover_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut registry = FileRegistry::open(dir.path()).unwrap();
    assert!(matches!(
        registry.apply(vec![Operation::AdmitAgent(info("a1"))]),
        Err(RegistryError::NotRecovered)
    ));
    let mut memory = InMemoryRegistry::new();
    assert!(matches!(
        memory.apply(vec![Operation::AdmitAgent(info("a1"))]),
        Err(RegistryError::NotRecovered)
    ));
}

#[test]
fn invalid_operations_change_nothing_in_memory_or_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut registry = open(dir.path());
    registry.apply(batches().remove(1)).unwrap();
    let before = registry.recover().unwrap();
    let log_len = registry.log_len();
    let log_bytes = fs::read(dir.path().join("log")).unwrap();
    let bad_batches = [
        vec![Operation::AdmitAgent(info("a1"))],
        vec![
            Operation::AdmitAgent(info("a9")),
            Operation::RemoveAgent(id("a1")),
            Operation::UpdateWeights(vec![weight("dev", -1.0)]),
        ],
        vec![
            Operation::MarkGone(id("a1"), TimeInfo { nanoseconds: 1 }),
            Operation::MarkUnreachable(id("a1"), TimeInfo { nanoseconds: 2 }),
        ],
    ];
    for (n, batch) in bad_batches.into_iter().enumerate() {
        let error = registry.apply(batch).unwrap_err();
        assert!(
            matches!(error, RegistryError::InvalidOperation { .. }),
            "{error}"
        );
        if n == 0 {
            assert!(matches!(
                error,
                RegistryError::InvalidOperation {
                    index: 0,
                    source: OperationError::AgentAlreadyAdmitted(_)
                }
            ));
        }
        assert_eq!(registry.recover().unwrap(), before);
        assert_eq!(registry.log_len(), log_len);
    }
    // The registry still works after rejecting.
    registry
        .apply(vec![Operation::AdmitAgent(info("a9"))])
        .unwrap();
    drop(registry);
    assert!(log_bytes.len() < fs::read(dir.path().join("log")).unwrap().len());
    assert!(reopen_state(dir.path()).unwrap().agents.contains_key("a9"));
}

#[test]
fn torn_last_record_is_cut_off_at_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let all = batches();
    let (init, last) = all.split_at(all.len() - 1);
    let mut registry = open(&source);
    for batch in init {
        registry.apply(batch.clone()).unwrap();
    }
    let start = registry.log_len() as usize;
    registry.apply(last[0].clone()).unwrap();
    let end = registry.log_len() as usize;
    drop(registry);
    let log = fs::read(source.join("log")).unwrap();
    assert_eq!(log.len(), end);
    let before = model(init);

    let mut damaged: Vec<(String, Vec<u8>)> = (start..end)
        .map(|cut| (format!("cut at {cut}"), log[..cut].to_vec()))
        .collect();
    // A last record whose payload checksum fails (bytes not all written) is torn too...
    let mut flipped = log.clone();
    flipped[end - 1] ^= 0xff;
    damaged.push(("last byte flipped".into(), flipped));
    // ...as is space allocated but never written.
    let mut zeros = log[..start].to_vec();
    zeros.extend(std::iter::repeat_n(0u8, end - start));
    damaged.push(("zero-filled tail".into(), zeros));

    for (what, bytes) in damaged {
        let case = dir.path().join("case");
        let _ = fs::remove_dir_all(&case);
        fs::create_dir(&case).unwrap();
        fs::write(case.join("log"), &bytes).unwrap();
        let mut registry = FileRegistry::open(&case).unwrap();
        let state = registry.recover().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(state, before, "{what}");
        assert_eq!(registry.log_len() as usize, start, "{what}");
        assert_eq!(
            fs::metadata(case.join("log")).unwrap().len() as usize,
            start,
            "{what}: the torn tail is cut off on disk"
        );
        // Further applies work and survive a reopen.
        registry
            .apply(vec![Operation::RemoveAgent(id("a1"))])
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        drop(registry);
        let mut expected = before.clone();
        operation::apply(&mut expected, &Operation::RemoveAgent(id("a1"))).unwrap();
        assert_eq!(reopen_state(&case).unwrap(), expected, "{what}");
    }
}

/// The byte offsets at which each record of a log starts, from applying `batches`.
fn record_offsets(dir: &Path, batches: &[Vec<Operation>]) -> Vec<usize> {
    let mut registry = open(dir);
    let mut offsets = Vec::new();
    for batch in batches {
        offsets.push(registry.log_len() as usize);
        registry.apply(batch.clone()).unwrap();
    }
    offsets.push(registry.log_len() as usize);
    offsets
}

#[track_caller]
fn assert_corrupt(dir: &Path, file: &str, offset: u64) {
    match reopen_state(dir) {
        Err(RegistryError::Corrupt {
            path,
            offset: at,
            reason,
        }) => {
            assert_eq!(path, dir.join(file), "{reason}");
            assert_eq!(at, offset, "{reason}");
            let message = RegistryError::Corrupt {
                path,
                offset: at,
                reason,
            }
            .to_string();
            assert!(
                message.contains(&format!("at offset {offset}")),
                "{message}"
            );
        }
        other => panic!("expected corruption of {file} at {offset}, got {other:?}"),
    }
}

#[test]
fn damage_before_the_last_record_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = record_offsets(dir.path(), &batches());
    let log_path = dir.path().join("log");
    let log = fs::read(&log_path).unwrap();

    // A flipped payload byte in the second record.
    for at in [offsets[1] + 12, offsets[2] - 1] {
        let mut bytes = log.clone();
        bytes[at] ^= 0x01;
        fs::write(&log_path, &bytes).unwrap();
        assert_corrupt(dir.path(), "log", offsets[1] as u64);
    }
    // A damaged length in the header of the second record.
    for at in [offsets[1], offsets[1] + 3, offsets[1] + 5] {
        let mut bytes = log.clone();
        bytes[at] ^= 0x80;
        fs::write(&log_path, &bytes).unwrap();
        assert_corrupt(dir.path(), "log", offsets[1] as u64);
    }
    // A missing record (sequence gap).
    let mut bytes = log[..offsets[1]].to_vec();
    bytes.extend(&log[offsets[2]..]);
    fs::write(&log_path, &bytes).unwrap();
    assert_corrupt(dir.path(), "log", offsets[1] as u64);
    // A bad magic.
    let mut bytes = log.clone();
    bytes[0] = b'X';
    fs::write(&log_path, &bytes).unwrap();
    assert_corrupt(dir.path(), "log", 0);
    // A record that decodes but does not apply (the agent admitted twice).
    let mut bytes = log[..offsets[2]].to_vec();
    let second = &log[offsets[1]..offsets[2]];
    // Re-frame the second record's payload with the next sequence number: it holds
    // AdmitAgent(a1), which is already admitted.
    let mut record: mesos_core::proto::mesos::internal::RegistryLogRecord =
        prost::Message::decode(&second[12..]).unwrap();
    record.sequence += 1;
    bytes.extend(frame(&prost::Message::encode_to_vec(&record)));
    fs::write(&log_path, &bytes).unwrap();
    assert_corrupt(dir.path(), "log", offsets[2] as u64);

    // The intact log still recovers.
    fs::write(&log_path, &log).unwrap();
    assert_eq!(reopen_state(dir.path()).unwrap(), model(&batches()));
}

/// The frame of a record, as the registry writes it.
fn frame(payload: &[u8]) -> Vec<u8> {
    let length = (payload.len() as u32).to_le_bytes();
    let mut out = length.to_vec();
    out.extend(crc32(&length).to_le_bytes());
    out.extend(crc32(payload).to_le_bytes());
    out.extend(payload);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn compaction_preserves_state() {
    let dir = tempfile::tempdir().unwrap();
    let options = FileRegistryOptions {
        compact_after_bytes: 300,
    };
    let mut registry = FileRegistry::open_with(dir.path(), options.clone()).unwrap();
    registry.recover().unwrap();
    let mut expected = RegistryState::default();
    let mut max_log = 0;
    for n in 0..60 {
        let name = format!("agent-{n}");
        let mut ops = vec![Operation::AdmitAgent(info(&name))];
        if n % 3 == 0 {
            ops.push(Operation::MarkUnreachable(
                id(&name),
                TimeInfo { nanoseconds: n },
            ));
        }
        if n % 7 == 0 {
            ops.push(Operation::UpdateWeights(vec![weight("r", n as f64 + 1.0)]));
        }
        expected = operation::apply_all(&expected, &ops).unwrap();
        let state = registry.apply(ops).unwrap();
        assert_eq!(state, &expected);
        max_log = max_log.max(registry.log_len());
    }
    assert!(max_log < 300 + 400, "log grew to {max_log}");
    assert!(dir.path().join("snapshot").exists());
    assert!(!dir.path().join("snapshot.tmp").exists());
    drop(registry);
    assert_eq!(reopen_state(dir.path()).unwrap(), expected);

    // An explicit compaction leaves an empty log; recovery reads the snapshot alone.
    let mut registry = FileRegistry::open_with(dir.path(), options).unwrap();
    registry.recover().unwrap();
    registry.compact().unwrap();
    assert_eq!(registry.log_len(), 8);
    drop(registry);
    assert_eq!(fs::metadata(dir.path().join("log")).unwrap().len(), 8);
    assert_eq!(reopen_state(dir.path()).unwrap(), expected);

    // A damaged snapshot is an error naming it.
    let snapshot = dir.path().join("snapshot");
    let good = fs::read(&snapshot).unwrap();
    let mut bytes = good.clone();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    fs::write(&snapshot, &bytes).unwrap();
    assert_corrupt(dir.path(), "snapshot", 8);
    fs::write(&snapshot, &good[..good.len() - 1]).unwrap();
    assert_corrupt(dir.path(), "snapshot", 8);
    fs::write(&snapshot, &good[..4]).unwrap();
    assert_corrupt(dir.path(), "snapshot", 0);
    fs::write(&snapshot, &good).unwrap();
    assert_eq!(reopen_state(dir.path()).unwrap(), expected);
}

#[test]
fn crash_between_snapshot_and_new_log_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let mut registry = open(dir.path());
    for batch in batches() {
        registry.apply(batch).unwrap();
    }
    let old_log = fs::read(dir.path().join("log")).unwrap();
    registry.compact().unwrap();
    drop(registry);
    // The snapshot was renamed into place, but the crash came before the empty log was.
    fs::write(dir.path().join("log"), &old_log).unwrap();
    let mut registry = open(dir.path());
    assert_eq!(registry.recover().unwrap(), model(&batches()));
    // New records continue the sequence after the skipped ones.
    registry
        .apply(vec![Operation::RemoveAgent(id("a1"))])
        .unwrap();
    drop(registry);
    let state = reopen_state(dir.path()).unwrap();
    assert!(!state.agents.contains_key("a1"));
    assert!(state.agents.contains_key("a3"));
}

#[test]
fn a_second_registry_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    let error = FileRegistry::open(dir.path()).unwrap_err();
    assert!(matches!(error, RegistryError::Locked { .. }), "{error}");
    assert!(error.to_string().contains("locked"), "{error}");
    drop(first);
    open(dir.path());
}

#[test]
fn the_lock_holds_across_processes() {
    // A child process (this test binary, re-run) holds the lock while we try to take it.
    if let Ok(dir) = std::env::var("REGISTRY_LOCK_CHILD_DIR") {
        let _registry = open(Path::new(&dir));
        println!("locked");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        return;
    }
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "the_lock_holds_across_processes",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("REGISTRY_LOCK_CHILD_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("locked") {
        line.clear();
        assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "child exited");
    }
    let error = FileRegistry::open(dir.path()).unwrap_err();
    assert!(matches!(error, RegistryError::Locked { .. }), "{error}");
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    assert!(child.wait().unwrap().success());
    open(dir.path());
}
