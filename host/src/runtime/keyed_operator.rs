//! [`KeyedWasmOperator`]: a keyed process function (world `keyed-process`) with its
//! state and timers in the host.
//!
//! Every call runs inside a state transaction: the operator lends its
//! [`OperatorState`] to the instance for the call, commits the call's writes and timer
//! changes if the call succeeds, and rolls them back if it fails. A failed batch is then
//! re-run event by event (on a fresh instance after a trap), each event in its own
//! transaction, so that the events at fault go to the dead-letter output and leave no
//! trace in state, and every other event's writes happen exactly once.
//!
//! Timers: when the watermark advances, the event-time timers due by then fire in time
//! order, in calls of at most [`TIMERS_PER_CALL`]; timers that come due while firing
//! (registered at or before the watermark) fire in the same step, for at most
//! [`MAX_TIMER_ROUNDS`] rounds. Processing-time timers fire on the chain's clock ticks.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use weir_batch::{Batch, Timestamp};

use super::dead_letter::{DeadLetter, Origin};
use super::keyed_store::OperatorState;
use super::operator::OperatorSnapshot;
use super::operator::{Emitted, Operator, OperatorError};
use super::stats::OperatorStats;
use super::swap::start_swapped;
use super::wasm_operator::{count_failure, deliver};
use crate::plugin::state::{CallScope, KeyedStore, TimerDomain};
use crate::plugin::{CallFailure, CallOutputs, FiredTimer, Plugin, PluginInstance};
use crate::state::{BackendKind, Timer, key_group_of, open_backend};

/// Most timers handed to one `on-timer` call.
pub const TIMERS_PER_CALL: usize = 1024;
/// Rounds of firing per watermark (timers registered while firing may be due at once).
pub const MAX_TIMER_ROUNDS: usize = 64;

/// One subtask of a keyed process function.
#[derive(Debug)]
pub struct KeyedWasmOperator {
    plugin: Plugin,
    subtask: usize,
    instance: PluginInstance,
    stats: Arc<OperatorStats>,
    origin: Origin,
    max_key_groups: u16,
    /// `None` only while lent to the instance for a call.
    state: Option<Box<OperatorState>>,
    watermark: Option<Timestamp>,
    /// Reused across calls.
    scopes: Vec<CallScope>,
    due: Vec<Timer>,
    /// The backend kind and working directory a restore opens.
    backend: BackendKind,
    work_dir: PathBuf,
}

impl KeyedWasmOperator {
    /// Makes the subtask's instance over `state`.
    ///
    /// # Errors
    /// If the instance cannot be made or initialised.
    pub fn new(
        plugin: Plugin,
        subtask: usize,
        max_key_groups: u16,
        state: OperatorState,
        stats: Arc<OperatorStats>,
    ) -> Result<Self, OperatorError> {
        let instance = plugin.instantiate(subtask).map_err(|error| OperatorError {
            operator: plugin.spec().operator.clone(),
            message: error.to_string(),
        })?;
        let origin = Origin::Operator {
            operator: plugin.spec().operator.clone(),
            plugin: plugin.identity().to_string(),
        };
        Ok(KeyedWasmOperator {
            plugin,
            subtask,
            instance,
            stats,
            origin,
            max_key_groups,
            state: Some(Box::new(state)),
            watermark: None,
            scopes: Vec::new(),
            due: Vec::new(),
            backend: BackendKind::Memory,
            work_dir: PathBuf::new(),
        })
    }

    /// Sets the backend kind and working directory that a restore opens (default: the
    /// memory backend, which needs no directory).
    #[must_use]
    pub fn with_backend(mut self, backend: BackendKind, work_dir: PathBuf) -> Self {
        self.backend = backend;
        self.work_dir = work_dir;
        self
    }

    fn error(&self, message: impl Into<String>) -> OperatorError {
        OperatorError {
            operator: self.plugin.spec().operator.clone(),
            message: message.into(),
        }
    }

    fn renew_instance(&mut self) -> Result<(), OperatorError> {
        self.instance = self.plugin.instantiate(self.subtask).map_err(|error| {
            self.error(format!(
                "cannot replace the instance after a fault: {error}"
            ))
        })?;
        Ok(())
    }

    /// Runs `call` with the state lent to the instance under `scopes`, then commits
    /// (success) or rolls back (failure).
    fn in_transaction<R>(
        &mut self,
        call: impl FnOnce(&mut PluginInstance) -> (R, Result<CallOutputs, CallFailure>),
    ) -> Result<(R, Result<CallOutputs, CallFailure>), OperatorError> {
        let state = self
            .state
            .take()
            .ok_or_else(|| self.error("state is still lent to an earlier call"))?;
        let scopes = std::mem::take(&mut self.scopes);
        self.instance.lend_state(state, scopes, self.watermark);
        let (value, result) = call(&mut self.instance);
        let (store, scopes) = self
            .instance
            .take_state()
            .ok_or_else(|| self.error("the instance did not give the state back"))?;
        self.scopes = scopes;
        let store: Box<dyn Any> = store;
        let mut state = store
            .downcast::<OperatorState>()
            .map_err(|_| self.error("the instance gave back another state"))?;
        let outcome = match &result {
            Ok(_) => state
                .commit()
                .map_err(|error| self.error(format!("state commit: {error}"))),
            Err(_) => {
                state.rollback();
                Ok(())
            }
        };
        self.state = Some(state);
        outcome.map(|()| (value, result))
    }

    /// Fills `self.scopes` with the keys of `batch`'s events (all keyed).
    fn scopes_for_events(&mut self, batch: &Batch) {
        // The scopes' buffers are reused from call to call: no allocation per event
        // once the batches have reached their size.
        self.scopes.truncate(batch.len());
        for event in batch.iter() {
            let key = event.key.unwrap_or_default();
            let key_group = key_group_of(key, self.max_key_groups);
            match self.scopes.get_mut(event.index as usize) {
                Some(scope) => {
                    scope.key_group = key_group;
                    scope.key.clear();
                    scope.key.extend_from_slice(key);
                    scope.namespace.clear();
                    scope.time = event.timestamp;
                }
                None => self.scopes.push(CallScope {
                    key_group,
                    key: key.to_vec(),
                    namespace: Vec::new(),
                    time: event.timestamp,
                }),
            }
        }
    }

    fn process_keyed(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        self.scopes_for_events(&batch);
        let (batch, result) = self.in_transaction(|instance| instance.process(batch))?;
        match result {
            Ok(outputs) => {
                deliver(&self.stats, &self.origin, &batch, outputs, out);
                Ok(())
            }
            Err(failure) => {
                count_failure(&self.stats, &failure);
                self.stats.failed_batches.fetch_add(1, Relaxed);
                tracing::warn!(
                    operator = %self.plugin.spec().operator,
                    plugin = %self.plugin.identity(),
                    events = batch.len(),
                    error = %failure,
                    "batch failed; state rolled back; re-running it event by event"
                );
                if failure.poisons_instance() {
                    self.renew_instance()?;
                }
                for index in 0..batch.len() {
                    let single = batch.slice(index..index + 1);
                    self.scopes_for_events(&single);
                    let (single, result) =
                        self.in_transaction(|instance| instance.process(single))?;
                    match result {
                        Ok(outputs) => deliver(&self.stats, &self.origin, &single, outputs, out),
                        Err(failure) => {
                            count_failure(&self.stats, &failure);
                            self.stats.dead_lettered.fetch_add(1, Relaxed);
                            out.dead_letters.push(DeadLetter::for_event(
                                self.origin.clone(),
                                failure.to_string(),
                                &single.event(0),
                            ));
                            if failure.poisons_instance() {
                                self.renew_instance()?;
                            }
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Fires the due timers of `domain` up to `up_to`.
    fn fire_timers(
        &mut self,
        domain: TimerDomain,
        up_to: Timestamp,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        for round in 0.. {
            let mut due = std::mem::take(&mut self.due);
            due.clear();
            let popped = match self.state.as_mut() {
                Some(state) => state.pop_due_timers(domain, up_to, &mut due),
                None => return Err(self.error("state is still lent to an earlier call")),
            };
            popped.map_err(|error| self.error(format!("timers: {error}")))?;
            if due.is_empty() {
                self.due = due;
                return Ok(());
            }
            if round == MAX_TIMER_ROUNDS {
                tracing::warn!(
                    operator = %self.plugin.spec().operator,
                    timers = due.len(),
                    "timers keep registering due timers; the rest fire at the next watermark"
                );
                let kept = match self.state.as_mut() {
                    Some(state) => state.reregister_timers(domain, &due),
                    None => return Err(self.error("state is still lent to an earlier call")),
                };
                kept.map_err(|error| self.error(format!("timers: {error}")))?;
                self.due = due;
                return Ok(());
            }
            for chunk in due.chunks(TIMERS_PER_CALL) {
                self.fire_chunk(domain, chunk, out)?;
            }
            self.due = due;
        }
        Ok(())
    }

    fn fire_chunk(
        &mut self,
        domain: TimerDomain,
        timers: &[Timer],
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        let fired: Vec<FiredTimer> = timers
            .iter()
            .map(|timer| FiredTimer {
                key: timer.key.clone(),
                at: timer.at,
                domain,
            })
            .collect();
        self.set_timer_scopes(timers);
        let ((), result) = self.in_transaction(|instance| ((), instance.on_timer(&fired)))?;
        let failure = match result {
            Ok(outputs) => {
                deliver(&self.stats, &self.origin, &Batch::default(), outputs, out);
                return Ok(());
            }
            Err(failure) => failure,
        };
        count_failure(&self.stats, &failure);
        if failure.poisons_instance() {
            self.renew_instance()?;
        }
        // One by one, so that only the timers at fault are lost (to the dead letters).
        for (timer, fired) in timers.iter().zip(&fired) {
            self.set_timer_scopes(std::slice::from_ref(timer));
            let ((), result) = self
                .in_transaction(|instance| ((), instance.on_timer(std::slice::from_ref(fired))))?;
            match result {
                Ok(outputs) => deliver(&self.stats, &self.origin, &Batch::default(), outputs, out),
                Err(failure) => {
                    count_failure(&self.stats, &failure);
                    self.stats.dead_lettered.fetch_add(1, Relaxed);
                    out.dead_letters.push(DeadLetter {
                        origin: self.origin.clone(),
                        reason: format!("timer at {} ({domain:?}) failed: {failure}", timer.at),
                        key: Some(timer.key.clone()),
                        value: Vec::new(),
                        timestamp: Some(timer.at),
                        headers: Vec::new(),
                    });
                    if failure.poisons_instance() {
                        self.renew_instance()?;
                    }
                }
            }
        }
        Ok(())
    }

    fn set_timer_scopes(&mut self, timers: &[Timer]) {
        self.scopes.clear();
        self.scopes.extend(timers.iter().map(|timer| CallScope {
            key_group: timer.key_group,
            key: timer.key.clone(),
            namespace: timer.namespace.clone(),
            time: timer.at,
        }));
    }
}

impl Operator for KeyedWasmOperator {
    fn name(&self) -> &str {
        &self.plugin.spec().operator
    }

    fn swap_plugin(&mut self, plugin: &Plugin) -> Result<(), OperatorError> {
        (self.instance, self.origin) = start_swapped(&self.plugin, plugin, self.subtask)?;
        self.plugin = plugin.clone();
        Ok(())
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        let started = Instant::now();
        self.stats.events_in.fetch_add(batch.len() as u64, Relaxed);
        self.stats.batches.fetch_add(1, Relaxed);
        // The exchange keys every event; one without a key cannot have keyed state.
        let batch = if batch.iter().any(|event| event.key.is_none()) {
            let mut keyed = Batch::with_capacity_like(&batch);
            for event in batch.iter() {
                if event.key.is_some() {
                    keyed.push_event(&event);
                } else {
                    self.stats.dead_lettered.fetch_add(1, Relaxed);
                    out.dead_letters.push(DeadLetter::for_event(
                        self.origin.clone(),
                        "a keyed process function needs a key; this event has none (set `key_by`)",
                        &event,
                    ));
                }
            }
            keyed
        } else {
            batch
        };
        let outcome = if batch.is_empty() {
            Ok(())
        } else {
            self.process_keyed(batch, out)
        };
        self.stats
            .add_plugin_counters(self.instance.drain_counters());
        self.stats.record_batch(started.elapsed());
        self.stats.record_memory(self.instance.memory_in_use());
        outcome
    }

    fn on_watermark(
        &mut self,
        watermark: Timestamp,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        self.watermark = Some(watermark);
        if let Some(state) = self.state.as_mut() {
            state.set_watermark(Some(watermark));
        }
        self.fire_timers(TimerDomain::EventTime, watermark, out)
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut Emitted) -> Result<(), OperatorError> {
        self.fire_timers(TimerDomain::ProcessingTime, now_ms, out)
    }

    /// Snapshots the backend (keyed state, timers and TTL entries all live there).
    fn snapshot(&mut self, dir: &Path) -> Result<Option<OperatorSnapshot>, OperatorError> {
        let state = self.state.as_mut().ok_or_else(|| OperatorError {
            operator: self.plugin.spec().operator.clone(),
            message: "state is lent to a call during a checkpoint".into(),
        })?;
        state.snapshot_to(dir).map_err(|error| OperatorError {
            operator: self.plugin.spec().operator.clone(),
            message: format!("checkpoint: {error}"),
        })?;
        Ok(Some(OperatorSnapshot {
            backend: format!("{:?}", self.backend).to_lowercase(),
        }))
    }

    /// Opens the backend from the snapshot and rebuilds the timer index from it.
    fn restore(&mut self, dir: &Path) -> Result<(), OperatorError> {
        let error = |message: String| OperatorError {
            operator: self.plugin.spec().operator.clone(),
            message,
        };
        let key_groups = self
            .state
            .as_ref()
            .map(|state| state.key_groups())
            .ok_or_else(|| error("state is lent to a call".into()))?;
        // Close the empty backend first: it holds the working directory (RocksDB's
        // lock) that the restored one opens.
        self.state = None;
        let backend = open_backend(self.backend, &self.work_dir, Some(dir))
            .map_err(|why| error(format!("restore: {why}")))?;
        let state = OperatorState::restore(backend, key_groups)
            .map_err(|why| error(format!("restore: {why}")))?;
        self.state = Some(Box::new(state));
        Ok(())
    }
}

/// `KeyedStore` is implemented by [`OperatorState`]; this keeps the two in step.
const _: fn(&OperatorState) -> &dyn KeyedStore = |state| state;
