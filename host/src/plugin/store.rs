//! [`HostCtx`], the data of a plugin instance's `Store`: one field per capability the
//! host grants (WASI, log, metrics, limits, keyed state and timers, inference). Each capability's code lives in its own
//! file next to this one.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::inference::InferenceCtx;
use super::limits::MemoryLimiter;
use super::metrics::PluginCounters;
use super::state::StateCtx;

/// Everything a plugin instance's imports may touch.
pub struct HostCtx {
    /// The operator this instance serves, for log records.
    pub(crate) operator: Arc<str>,
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) counters: PluginCounters,
    pub(crate) state: StateCtx,
    pub(crate) inference: InferenceCtx,
}

impl HostCtx {
    pub(crate) fn new(
        operator: Arc<str>,
        memory_limit: usize,
        seed: u64,
        models: crate::model::ModelGrants,
    ) -> Self {
        HostCtx {
            wasi: super::wasi::deny_all_context(&operator, seed),
            operator,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_limit),
            counters: PluginCounters::default(),
            state: StateCtx::default(),
            inference: InferenceCtx::new(models),
        }
    }
}

impl WasiView for HostCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl super::bindings::weir::operator::types::Host for HostCtx {}
impl super::bindings::aggregate::weir::operator::windows::Host for HostCtx {}
