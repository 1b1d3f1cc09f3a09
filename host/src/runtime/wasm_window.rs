//! Window functions backed by Wasm plugins: [`WasmAggregate`] (world
//! `window-aggregate`) and [`WasmWindowProcess`] (world `window-process`), the
//! [`AggregateFunction`] and [`WindowProcessFunction`] the window operator calls.
//!
//! Faults: a failed call is reported to the window operator as a non-fatal
//! [`WindowFnError`] (it then retries the batch's events one by one and dead-letters
//! those that fail alone); after a trap, a missed deadline or memory exhaustion the
//! instance is replaced first. Accumulators live in the host, so nothing is lost. Only
//! an instance that cannot be replaced is fatal.
//!
//! A process plugin that declares states gets per-window state
//! ([`WindowStateLoan`]): the window operator's state, lent for each call.

use std::sync::Arc;

use weir_batch::Batch;

use super::dead_letter::Origin;
use super::operator::Emitted;
use super::stats::OperatorStats;
use super::swap::start_swapped;
use super::wasm_operator::{count_failure, merge_outputs};
use crate::plugin::{AggregateBuffers, CallFailure, Plugin, PluginInstance};
use crate::window::{
    AggregateFunction, Packed, WindowFiring, WindowFnError, WindowProcessFunction, WindowStateLoan,
};

/// One subtask's instance of a window plugin, replaced after faults.
#[derive(Debug)]
struct WindowPluginSlot {
    plugin: Plugin,
    subtask: usize,
    instance: PluginInstance,
    stats: Arc<OperatorStats>,
}

impl WindowPluginSlot {
    fn new(
        plugin: Plugin,
        subtask: usize,
        stats: Arc<OperatorStats>,
    ) -> Result<Self, WindowFnError> {
        let instance = plugin
            .instantiate(subtask)
            .map_err(|error| WindowFnError::fatal(error.to_string()))?;
        Ok(WindowPluginSlot {
            plugin,
            subtask,
            instance,
            stats,
        })
    }

    /// Turns a failed call into the window operator's error, counting it and replacing
    /// a poisoned instance.
    fn failed(&mut self, function: &str, failure: CallFailure) -> WindowFnError {
        count_failure(&self.stats, &failure);
        if matches!(failure, CallFailure::NotThisKind { .. }) {
            return WindowFnError::fatal(failure.to_string());
        }
        if failure.poisons_instance() {
            match self.plugin.instantiate(self.subtask) {
                Ok(instance) => self.instance = instance,
                Err(error) => {
                    return WindowFnError::fatal(format!(
                        "cannot replace the instance after a fault ({failure}): {error}"
                    ));
                }
            }
        }
        WindowFnError::input(format!(
            "{} `{function}`: {failure}",
            self.plugin.identity()
        ))
    }

    /// Starts an instance of `next` in place of the running one (a hot swap).
    fn swap(&mut self, next: &Plugin) -> Result<Origin, String> {
        let (instance, origin) =
            start_swapped(&self.plugin, next, self.subtask).map_err(|error| error.message)?;
        self.gather_counters();
        self.instance = instance;
        self.plugin = next.clone();
        Ok(origin)
    }

    fn gather_counters(&mut self) {
        self.stats
            .add_plugin_counters(self.instance.drain_counters());
    }
}

/// An incremental aggregate run by a `window-aggregate` plugin.
#[derive(Debug)]
pub struct WasmAggregate {
    slot: WindowPluginSlot,
    /// What the calls reuse: the copy of the events handed to `add` and the WIT
    /// buffers of `merge` and `finish`.
    events: Batch,
    buffers: AggregateBuffers,
}

impl WasmAggregate {
    /// Makes subtask `subtask`'s instance.
    ///
    /// # Errors
    /// A fatal [`WindowFnError`] if the instance cannot start.
    pub fn new(
        plugin: Plugin,
        subtask: usize,
        stats: Arc<OperatorStats>,
    ) -> Result<Self, WindowFnError> {
        Ok(WasmAggregate {
            slot: WindowPluginSlot::new(plugin, subtask, stats)?,
            events: Batch::default(),
            buffers: AggregateBuffers::default(),
        })
    }
}

impl AggregateFunction for WasmAggregate {
    fn add(
        &mut self,
        accumulators: &mut Packed,
        events: &Batch,
        targets: &[u32],
    ) -> Result<(), WindowFnError> {
        // The instance takes the batch by value; the window operator keeps its own, so
        // the events go in a reused copy.
        let mut copy = std::mem::take(&mut self.events);
        copy.clone_from(events);
        let (copy, result) = self
            .slot
            .instance
            .aggregate_add(accumulators, copy, targets);
        self.events = copy;
        self.slot.gather_counters();
        result.map_err(|failure| self.slot.failed("add", failure))
    }

    fn merge(&mut self, inputs: &Packed, group_ends: &[u32]) -> Result<Packed, WindowFnError> {
        let result = self
            .slot
            .instance
            .aggregate_merge(inputs, group_ends, &mut self.buffers);
        result.map_err(|failure| self.slot.failed("merge", failure))
    }

    fn finish(
        &mut self,
        accumulators: &Packed,
        firings: &[WindowFiring],
    ) -> Result<Packed, WindowFnError> {
        let result = self
            .slot
            .instance
            .aggregate_finish(accumulators, firings, &mut self.buffers);
        self.slot.gather_counters();
        result.map_err(|failure| self.slot.failed("finish", failure))
    }

    fn swap_plugin(&mut self, plugin: &Plugin) -> Result<Origin, String> {
        self.slot.swap(plugin)
    }
}

/// A window process function run by a `window-process` plugin.
#[derive(Debug)]
pub struct WasmWindowProcess {
    slot: WindowPluginSlot,
    origin: Origin,
}

impl WasmWindowProcess {
    /// Makes subtask `subtask`'s instance.
    ///
    /// # Errors
    /// A fatal [`WindowFnError`] if the instance cannot start.
    pub fn new(
        plugin: Plugin,
        subtask: usize,
        stats: Arc<OperatorStats>,
    ) -> Result<Self, WindowFnError> {
        let origin = Origin::Operator {
            operator: plugin.spec().operator.clone(),
            plugin: plugin.identity().to_string(),
        };
        Ok(WasmWindowProcess {
            slot: WindowPluginSlot::new(plugin, subtask, stats)?,
            origin,
        })
    }
}

impl WindowProcessFunction for WasmWindowProcess {
    fn process(
        &mut self,
        firings: &[WindowFiring],
        event_ends: &[u32],
        events: Batch,
        out: &mut Emitted,
    ) -> Result<(), WindowFnError> {
        let (events, result) = self
            .slot
            .instance
            .process_windows(firings, event_ends, events);
        self.slot.gather_counters();
        let outputs = result.map_err(|failure| self.slot.failed("process", failure))?;
        // Events out and dead letters are counted by the window operator's wrapper.
        merge_outputs(&self.origin, &events, outputs, out);
        Ok(())
    }

    fn uses_window_state(&self) -> bool {
        !self.slot.instance.declared_states().is_empty()
    }

    /// Lends the operator's per-window state to the instance for the call and takes
    /// it back before anything else happens (a fault may replace the instance).
    fn process_with_state(
        &mut self,
        firings: &[WindowFiring],
        event_ends: &[u32],
        events: Batch,
        state: &mut WindowStateLoan,
        out: &mut Emitted,
    ) -> Result<(), WindowFnError> {
        if let Some(store) = state.store.take() {
            let scopes = std::mem::take(&mut state.scopes);
            self.slot
                .instance
                .lend_state(store, scopes, state.watermark);
        }
        let (events, result) = self
            .slot
            .instance
            .process_windows(firings, event_ends, events);
        if let Some((store, scopes)) = self.slot.instance.take_state() {
            state.store = Some(store);
            state.scopes = scopes;
        }
        self.slot.gather_counters();
        let outputs = result.map_err(|failure| self.slot.failed("process", failure))?;
        merge_outputs(&self.origin, &events, outputs, out);
        Ok(())
    }

    fn swap_plugin(&mut self, plugin: &Plugin) -> Result<Origin, String> {
        self.origin = self.slot.swap(plugin)?;
        Ok(self.origin.clone())
    }
}
