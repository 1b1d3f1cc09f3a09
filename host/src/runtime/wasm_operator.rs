//! [`WasmOperator`]: an [`Operator`] that runs a plugin, with faults contained.
//!
//! One call per batch. When the call fails — the plugin returns an error, traps,
//! misses its deadline, runs out of memory, or returns outputs that break the
//! contract — the batch is re-run one event at a time on a healthy instance (a fresh
//! one after a trap), so that only the events that fail on their own go to the
//! dead-letter output, each with the plugin's identity and the error. The other
//! events flow on, in their order. The host never fails because a plugin did.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use weir_batch::Batch;

use super::dead_letter::{DeadLetter, Origin};
use super::operator::{Emitted, Operator, OperatorError};
use super::stats::OperatorStats;
use super::swap::start_swapped;
use crate::plugin::{CallFailure, CallOutputs, Plugin, PluginInstance};

/// A plugin operator subtask.
#[derive(Debug)]
pub struct WasmOperator {
    plugin: Plugin,
    subtask: usize,
    instance: PluginInstance,
    stats: Arc<OperatorStats>,
    origin: Origin,
}

impl WasmOperator {
    /// Makes the subtask's instance.
    ///
    /// # Errors
    /// If the instance cannot be made or initialised.
    pub fn new(
        plugin: Plugin,
        subtask: usize,
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
        Ok(WasmOperator {
            plugin,
            subtask,
            instance,
            stats,
            origin,
        })
    }

    /// Replaces a poisoned instance with a fresh one.
    fn renew_instance(&mut self) -> Result<(), OperatorError> {
        self.instance = self
            .plugin
            .instantiate(self.subtask)
            .map_err(|error| OperatorError {
                operator: self.plugin.spec().operator.clone(),
                message: format!("cannot replace the instance after a fault: {error}"),
            })?;
        Ok(())
    }

    /// Re-runs `batch` one event at a time after the whole batch failed.
    fn isolate(&mut self, batch: &Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        for index in 0..batch.len() {
            let (single, result) = self.instance.process(batch.slice(index..index + 1));
            match result {
                Ok(outputs) => deliver(&self.stats, &self.origin, &single, outputs, out),
                Err(failure) => {
                    count_failure(&self.stats, &failure);
                    tracing::warn!(
                        operator = %self.plugin.spec().operator,
                        plugin = %self.plugin.identity(),
                        event = index,
                        error = %failure,
                        "event dead-lettered"
                    );
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

impl Operator for WasmOperator {
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
        let (batch, result) = self.instance.process(batch);
        let outcome = match result {
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
                    "batch failed; re-running it event by event"
                );
                let renewed = if failure.poisons_instance() {
                    self.renew_instance()
                } else {
                    Ok(())
                };
                renewed.and_then(|()| self.isolate(&batch, out))
            }
        };
        self.stats
            .add_plugin_counters(self.instance.drain_counters());
        self.stats.record_batch(started.elapsed());
        self.stats.record_memory(self.instance.memory_in_use());
        outcome
    }
}

/// Counts a failed call in the operator's fault counters (traps, deadlines, memory).
pub(crate) fn count_failure(stats: &OperatorStats, failure: &CallFailure) {
    let counter = match failure {
        CallFailure::Trap(_) => &stats.traps,
        CallFailure::Deadline(_) => &stats.deadline_hits,
        CallFailure::OutOfMemory(_) => &stats.out_of_memory,
        CallFailure::Guest { .. }
        | CallFailure::InvalidOutput(_)
        | CallFailure::NotThisKind { .. } => return,
    };
    counter.fetch_add(1, Relaxed);
}

/// Moves a successful call's outputs into `out`: main and named outputs appended, and
/// the events the plugin rejected (indexes into `input`) dead-lettered with `origin`.
pub(crate) fn merge_outputs(
    origin: &Origin,
    input: &Batch,
    outputs: CallOutputs,
    out: &mut Emitted,
) {
    out.main.append(outputs.main);
    for (output, events) in outputs.named {
        match out.named.iter_mut().find(|(name, _)| *name == output) {
            Some((_, batch)) => batch.append(events),
            None => out.named.push((output, events)),
        }
    }
    for (index, reason) in outputs.rejected {
        out.dead_letters.push(DeadLetter::for_event(
            origin.clone(),
            reason,
            &input.event(index as usize),
        ));
    }
}

/// [`merge_outputs`], counting the events out and the rejections in `stats`.
pub(crate) fn deliver(
    stats: &OperatorStats,
    origin: &Origin,
    input: &Batch,
    outputs: CallOutputs,
    out: &mut Emitted,
) {
    stats
        .events_out
        .fetch_add(outputs.main.len() as u64, Relaxed);
    stats
        .dead_lettered
        .fetch_add(outputs.rejected.len() as u64, Relaxed);
    merge_outputs(origin, input, outputs, out);
}
