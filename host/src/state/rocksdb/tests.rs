//! Snapshots and restores of the RocksDB backend (and, for the shared law, of the
//! memory backend): what a restore gives back, and how it refuses damage. The
//! backend's own laws run in the conformance suite (`conformance::backends`).

use std::fs;
use std::path::{Path, PathBuf};

use super::{RocksDbBackend, listing};
use crate::state::conformance::scan_all;
use crate::state::{
    BackendKind, Scope, StateBackend, StateKind, StateSpec, SubtaskState, TimeDomain, open_backend,
};

fn scope(key: &[u8]) -> Scope<'_> {
    Scope {
        key_group: 7,
        key,
        namespace: b"",
        time: 0,
    }
}

#[test]
fn a_restore_gives_the_snapshots_state_not_what_came_after() {
    for kind in [BackendKind::Memory, BackendKind::RocksDb] {
        let dir = tempfile::tempdir().unwrap();
        let count = StateSpec::new("count", StateKind::Value);
        let seen = StateSpec::new("seen", StateKind::List);
        let backend = open_backend(kind, &dir.path().join("work"), None).unwrap();
        let mut state = SubtaskState::restore(backend, 0..128).unwrap();
        for i in 0..1_000u32 {
            let key = i.to_be_bytes();
            let keyed = &mut state.keyed;
            keyed
                .value_set(&mut state.backend, &count, &scope(&key), &[1])
                .unwrap();
            keyed
                .list_add(&mut state.backend, &seen, &scope(&key), b"a")
                .unwrap();
        }
        state
            .timers
            .register(&mut state.backend, TimeDomain::EventTime, 50, 7, b"k", b"")
            .unwrap();
        state.commit().unwrap();
        let snapshot = dir.path().join("chk-1");
        state.backend.snapshot_to(&snapshot).unwrap();
        let at_snapshot = scan_all(state.base(), b"");

        // After the snapshot: overwrite, clear, add a timer.
        for i in 0..1_000u32 {
            let key = i.to_be_bytes();
            let keyed = &mut state.keyed;
            keyed
                .value_set(&mut state.backend, &count, &scope(&key), &[2])
                .unwrap();
            keyed
                .clear(&mut state.backend, &seen, &scope(&key))
                .unwrap();
        }
        state
            .timers
            .register(&mut state.backend, TimeDomain::EventTime, 60, 7, b"k", b"")
            .unwrap();
        state.commit().unwrap();
        assert_ne!(scan_all(state.base(), b""), at_snapshot);

        for attempt in ["restore-1", "restore-2"] {
            let restored = open_backend(kind, &dir.path().join(attempt), Some(&snapshot)).unwrap();
            if kind == BackendKind::RocksDb {
                // Links: the live instance's, the snapshot's, the restored copy's.
                assert!(
                    linked_ssts(&snapshot, 3) > 0,
                    "SSTs are hard-linked, not copied"
                );
            }
            assert_eq!(scan_all(&restored, b""), at_snapshot, "{kind:?}");
            let mut state = SubtaskState::restore(restored, 0..128).unwrap();
            assert_eq!(state.timers.next_due(TimeDomain::EventTime), Some(50));
            assert_eq!(state.timers.len(TimeDomain::EventTime), 1);
            let value = state
                .keyed
                .value_get(&mut state.backend, &count, &scope(&5u32.to_be_bytes()))
                .unwrap();
            assert_eq!(value, Some(vec![1]));
            // Writing to a restored backend leaves the snapshot as it was for the next.
            state.backend.delete_prefix(b"").unwrap();
            state.commit().unwrap();
        }
    }
}

/// How many SST files of `snapshot` have at least `links` hard links.
fn linked_ssts(snapshot: &Path, links: u64) -> usize {
    use std::os::unix::fs::MetadataExt;
    fs::read_dir(snapshot)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sst"))
        .filter(|path| fs::metadata(path).unwrap().nlink() >= links)
        .count()
}

#[test]
fn rocksdb_backend_opens_by_its_pipeline_name_and_wipes_its_working_dir() {
    let kind: BackendKind = serde_json::from_str("\"rocksdb\"").unwrap();
    assert_eq!(kind, BackendKind::RocksDb);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let mut backend = open_backend(kind, &work, None).unwrap();
    backend.put(b"k", b"v").unwrap();
    drop(backend);
    let backend = open_backend(kind, &work, None).unwrap();
    assert_eq!(
        backend.get(b"k").unwrap(),
        None,
        "a fresh backend starts empty"
    );
}

/// A snapshot with some SSTs, and the path of one of them.
fn snapshot_with_data(dir: &Path) -> (PathBuf, String) {
    let mut backend = RocksDbBackend::open(&dir.join("work")).unwrap();
    for i in 0..10_000u32 {
        backend.put(&i.to_be_bytes(), &[i as u8; 32]).unwrap();
    }
    let snapshot = dir.join("chk");
    backend.snapshot_to(&snapshot).unwrap();
    let sst = fs::read_dir(&snapshot)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .find(|name| name.ends_with(".sst"))
        .expect("a flushed snapshot has an SST");
    (snapshot, sst)
}

fn file_named(snapshot: &Path, prefix: &str) -> PathBuf {
    fs::read_dir(snapshot)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(prefix)
        })
        .unwrap()
}

/// The restore's error message after `damage`, which must be a snapshot error.
fn restore_error(damage: impl FnOnce(&Path, &str)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, sst) = snapshot_with_data(dir.path());
    let work = dir.path().join("restored");
    // Undamaged, it restores.
    let restored = open_backend(BackendKind::RocksDb, &work, Some(&snapshot)).unwrap();
    assert_eq!(scan_all(&restored, b"").len(), 10_000);
    drop(restored);
    damage(&snapshot, &sst);
    match open_backend(BackendKind::RocksDb, &work, Some(&snapshot)) {
        Err(error) => {
            assert!(error.is_internal());
            assert!(
                matches!(error, crate::state::StateError::Snapshot { .. }),
                "{error}"
            );
            error.to_string()
        }
        Ok(backend) => panic!(
            "restored {} entries from a damaged snapshot",
            scan_all(&backend, b"").len()
        ),
    }
}

fn assert_says(message: &str, expected: &str) {
    assert!(message.contains(expected), "`{message}` lacks `{expected}`");
}

#[test]
fn a_missing_snapshot_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = RocksDbBackend::restore(&dir.path().join("w"), &dir.path().join("nope"));
    assert_says(
        &error.unwrap_err().to_string(),
        "nope: no such snapshot directory",
    );
}

#[test]
fn a_deleted_sst_is_refused_by_name() {
    let message = restore_error(|snapshot, sst| fs::remove_file(snapshot.join(sst)).unwrap());
    assert_says(&message, "is missing");
    assert_says(&message, ".sst");
}

#[test]
fn a_truncated_sst_is_refused_by_name() {
    let message = restore_error(|snapshot, sst| {
        let file = fs::OpenOptions::new()
            .write(true)
            .open(snapshot.join(sst))
            .unwrap();
        let size = file.metadata().unwrap().len();
        file.set_len(size / 2).unwrap();
    });
    assert_says(&message, "(truncated or replaced)");
    assert_says(&message, ".sst has ");
}

#[test]
fn a_damaged_or_truncated_manifest_is_refused() {
    let flipped = restore_error(|snapshot, _| {
        let manifest = file_named(snapshot, "MANIFEST-");
        let mut bytes = fs::read(&manifest).unwrap();
        bytes[20] ^= 0x40;
        fs::write(&manifest, bytes).unwrap();
    });
    assert_says(&flipped, "MANIFEST-");
    assert_says(&flipped, "is damaged");
    // Cut at any length, a MANIFEST could read as a shorter history: refused too.
    let truncated = restore_error(|snapshot, _| {
        let manifest = file_named(snapshot, "MANIFEST-");
        let size = fs::metadata(&manifest).unwrap().len();
        fs::OpenOptions::new()
            .write(true)
            .open(&manifest)
            .unwrap()
            .set_len(size - 10)
            .unwrap();
    });
    assert_says(&truncated, "(truncated or replaced)");
}

#[test]
fn a_damaged_or_missing_current_is_refused() {
    let damaged = restore_error(|snapshot, _| {
        fs::write(snapshot.join("CURRENT"), "MANIFEST-999999\n").unwrap();
    });
    assert_says(&damaged, "CURRENT is damaged");
    let missing = restore_error(|snapshot, _| fs::remove_file(snapshot.join("CURRENT")).unwrap());
    assert_says(&missing, "CURRENT is missing");
}

#[test]
fn an_unfinished_snapshot_or_another_format_version_is_refused() {
    let unfinished =
        restore_error(|snapshot, _| fs::remove_file(snapshot.join(listing::FILE_NAME)).unwrap());
    assert_says(&unfinished, "not a complete Weir RocksDB snapshot");
    let newer = restore_error(|snapshot, _| {
        let path = snapshot.join(listing::FILE_NAME);
        let text = fs::read_to_string(&path).unwrap();
        let body = text[..text.rfind("end ").unwrap()].replacen("snapshot 1", "snapshot 2", 1);
        let end = listing::sha256_hex(body.as_bytes());
        fs::write(&path, format!("{body}end {end}\n")).unwrap();
    });
    assert_says(&newer, "format version 2, this build reads version 1");
    let edited = restore_error(|snapshot, _| {
        let path = snapshot.join(listing::FILE_NAME);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replacen("snapshot 1", "snapshot 2", 1)).unwrap();
    });
    assert_says(&edited, "WEIR-SNAPSHOT is damaged: checksum mismatch");
}

#[test]
fn rocksdb_itself_refuses_what_the_listing_cannot_see() {
    // A listing rewritten to match a damaged CURRENT: RocksDB's own open refuses it.
    let message = restore_error(|snapshot, _| {
        fs::write(snapshot.join("CURRENT"), "MANIFEST-999999\n").unwrap();
        listing::write(snapshot).unwrap();
    });
    assert_says(&message, "RocksDB cannot open the restored copy");
}

#[test]
fn a_snapshot_is_never_its_own_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, _) = snapshot_with_data(dir.path());
    let error = RocksDbBackend::restore(&snapshot, &snapshot).unwrap_err();
    assert_says(&error.to_string(), "is the working directory itself");
    assert!(snapshot.join(listing::FILE_NAME).exists(), "left as it was");
}

#[test]
fn a_snapshot_into_an_existing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut backend = RocksDbBackend::open(&dir.path().join("work")).unwrap();
    let error = backend.snapshot_to(dir.path()).unwrap_err();
    assert_says(&error.to_string(), "already exists");
}
