//! Every law of the state layer, run as tests on every backend: the conformance
//! suite, the overlay committing into the backend, and the model tests of the overlay,
//! keyed state with TTL and timers through [`SubtaskState`](crate::state::SubtaskState).
//! One list of laws, one module of tests per backend (`on_memory::…`,
//! `on_rocksdb::…`): a law added to the list runs everywhere.

use std::path::Path;

use tempfile::TempDir;

use super::model::{keyed_state_behaves_like_its_model, the_overlay_behaves_like_its_model};
use super::timers_model::timers_behave_like_a_set_with_transactions;
use super::{Committing, MakeBackend, check_backend};
use crate::state::{
    MemoryBackend, Overlay, RocksDbBackend, ScanControl, StateBackend, StateError, WriteBatch,
};

/// A RocksDB backend in a temporary directory that is deleted with it.
#[derive(Debug)]
pub(crate) struct TempRocksDb {
    backend: RocksDbBackend, // dropped (closed) before the directory
    _dir: TempDir,
}

impl TempRocksDb {
    /// An empty backend in a new temporary directory.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let backend = RocksDbBackend::open(&dir.path().join("working")).unwrap();
        TempRocksDb { backend, _dir: dir }
    }
}

impl StateBackend for TempRocksDb {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.backend.get(key)
    }
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        self.backend.put(key, value)
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
        self.backend.delete(key)
    }
    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
    ) -> Result<(), StateError> {
        self.backend.scan_prefix(prefix, visit)
    }
    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError> {
        self.backend.delete_prefix(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> Result<(), StateError> {
        self.backend.write(batch)
    }
    fn snapshot_to(&mut self, dir: &Path) -> Result<(), StateError> {
        self.backend.snapshot_to(dir)
    }
}

fn conforms(make: MakeBackend<'_>, _cases: u32) {
    check_backend(make);
}

fn an_overlay_committing_after_each_write_conforms(make: MakeBackend<'_>, _cases: u32) {
    check_backend(&|| Box::new(Committing(Overlay::new(make()))));
}

/// Tests named after the laws, in a module per backend; `$cases` random runs for the
/// property laws.
macro_rules! laws_on {
    ($module:ident, $make:expr, $cases:expr) => {
        mod $module {
            use super::*;

            fn make() -> Box<dyn StateBackend> {
                Box::new($make)
            }

            laws_on!(@tests $cases;
                conforms,
                an_overlay_committing_after_each_write_conforms,
                the_overlay_behaves_like_its_model,
                keyed_state_behaves_like_its_model,
                timers_behave_like_a_set_with_transactions,
            );
        }
    };
    (@tests $cases:expr; $($law:ident),* $(,)?) => {
        $(
            #[test]
            fn $law() {
                super::$law(&make, $cases);
            }
        )*
    };
}

laws_on!(on_memory, MemoryBackend::new(), 512);
// Each case opens an instance (a few milliseconds): fewer cases, same laws.
laws_on!(on_rocksdb, TempRocksDb::new(), 48);
