//! [`WindowStateLoan`]: the per-window state a window operator lends its process
//! function for one call, as Flink's `ProcessWindowFunction.Context.windowState()`.
//!
//! Scope `i` of the call is firing `i`'s (key, window) namespace: values written in
//! one firing of a window are read by its later firings (early, on-time, late), and
//! are cleared when the window is purged (a count window: after its on-time firing).
//! The store is the window operator's own state backend, so checkpoints cover it; a
//! call that fails leaves no trace (its writes are rolled back). Merging (session)
//! windows have no per-window state: every state call of such a call fails with
//! [`MERGING_REFUSED`].

use weir_batch::Timestamp;

use crate::plugin::state::{CallScope, KeyedStore, StateSpec, TimerDomain};
use crate::state::keyed::MapEntry;

/// The error every per-window state call gets in windows that merge.
pub const MERGING_REFUSED: &str = "per-window state is not available for merging (session) windows";

/// What a window function may lend its plugin for one `process` call: the store, the
/// meaning of each scope, and the operator's watermark (for time to live). A function
/// that lends the store must put it back in `store` (and the scopes in `scopes`)
/// before it returns, whatever the outcome.
pub struct WindowStateLoan {
    pub store: Option<Box<dyn KeyedStore>>,
    pub scopes: Vec<CallScope>,
    pub watermark: Option<Timestamp>,
}

impl std::fmt::Debug for WindowStateLoan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowStateLoan")
            .field("lent", &self.store.is_some())
            .field("scopes", &self.scopes.len())
            .field("watermark", &self.watermark)
            .finish()
    }
}

/// The store lent for merging windows: it refuses every call with [`MERGING_REFUSED`].
#[derive(Debug, Default)]
pub struct MergingWindowsStore;

impl KeyedStore for MergingWindowsStore {
    fn value_get(&mut self, _: &StateSpec, _: &CallScope) -> Result<Option<Vec<u8>>, String> {
        Err(MERGING_REFUSED.into())
    }
    fn value_set(&mut self, _: &StateSpec, _: &CallScope, _: &[u8]) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
    fn clear(&mut self, _: &StateSpec, _: &CallScope) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
    fn list_get(&mut self, _: &StateSpec, _: &CallScope) -> Result<Vec<Vec<u8>>, String> {
        Err(MERGING_REFUSED.into())
    }
    fn list_add(&mut self, _: &StateSpec, _: &CallScope, _: &[u8]) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
    fn list_replace(&mut self, _: &StateSpec, _: &CallScope, _: &[Vec<u8>]) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
    fn map_get(
        &mut self,
        _: &StateSpec,
        _: &CallScope,
        _: &[u8],
    ) -> Result<Option<Vec<u8>>, String> {
        Err(MERGING_REFUSED.into())
    }
    fn map_put(&mut self, _: &StateSpec, _: &CallScope, _: &[u8], _: &[u8]) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
    fn map_remove(&mut self, _: &StateSpec, _: &CallScope, _: &[u8]) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
    fn map_entries(&mut self, _: &StateSpec, _: &CallScope) -> Result<Vec<MapEntry>, String> {
        Err(MERGING_REFUSED.into())
    }
    fn register_timer(
        &mut self,
        _: &CallScope,
        _: TimerDomain,
        _: Timestamp,
    ) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
    fn delete_timer(&mut self, _: &CallScope, _: TimerDomain, _: Timestamp) -> Result<(), String> {
        Err(MERGING_REFUSED.into())
    }
}
