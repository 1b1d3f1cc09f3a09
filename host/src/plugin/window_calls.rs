//! The calls of the window worlds on a [`PluginInstance`]: `aggregator.add / merge /
//! finish` and `window-processor.process`. Each checks what the guest returned (counts
//! and offsets are guest-controlled) before the window operator trusts it.

use weir_batch::Batch;

use super::bindings::aggregate::weir::operator::windows as wit_windows;
use super::bindings::weir::operator::types as wit;
use super::exports::Exports;
use super::instance::{CallFailure, CallOutputs, PluginInstance, guest_failure};
use crate::window::{FiringKind, Packed, WindowFiring};

fn to_wit(packed: Packed) -> wit::PackedBytes {
    wit::PackedBytes {
        bytes: packed.bytes,
        ends: packed.ends,
    }
}

fn from_wit(packed: wit::PackedBytes) -> Packed {
    Packed {
        bytes: packed.bytes,
        ends: packed.ends,
    }
}

/// Buffers the aggregate calls reuse from call to call, so that handing accumulators
/// and firings to the guest allocates nothing on the host once they have grown.
#[derive(Debug, Default)]
pub struct AggregateBuffers {
    packed: Option<wit::PackedBytes>,
    /// `firings[..n]` are the call's; the rest keep their key buffers.
    firings: Vec<wit_windows::WindowFiring>,
}

impl AggregateBuffers {
    /// Copies `packed` into the reused WIT buffer.
    fn fill_packed(&mut self, packed: &Packed) -> &wit::PackedBytes {
        let buffer = self.packed.get_or_insert_with(|| wit::PackedBytes {
            bytes: Vec::new(),
            ends: Vec::new(),
        });
        buffer.bytes.clear();
        buffer.bytes.extend_from_slice(&packed.bytes);
        buffer.ends.clear();
        buffer.ends.extend_from_slice(&packed.ends);
        buffer
    }

    /// `firings` as WIT records, in the reused buffer.
    fn firings(&mut self, firings: &[WindowFiring]) -> usize {
        for (at, firing) in firings.iter().enumerate() {
            match self.firings.get_mut(at) {
                Some(wit_firing) => {
                    match (&firing.key, &mut wit_firing.key) {
                        (Some(key), Some(buffer)) => {
                            buffer.clear();
                            buffer.extend_from_slice(key);
                        }
                        (key, buffer) => buffer.clone_from(key),
                    }
                    wit_firing.start = firing.start;
                    wit_firing.end = firing.end;
                    wit_firing.kind = kind_to_wit(firing.kind);
                    wit_firing.index = firing.index;
                }
                None => self.firings.push(firing_to_wit(firing)),
            }
        }
        firings.len()
    }
}

fn kind_to_wit(kind: FiringKind) -> wit_windows::FiringKind {
    match kind {
        FiringKind::Early => wit_windows::FiringKind::Early,
        FiringKind::OnTime => wit_windows::FiringKind::OnTime,
        FiringKind::Late => wit_windows::FiringKind::Late,
    }
}

fn firing_to_wit(firing: &WindowFiring) -> wit_windows::WindowFiring {
    wit_windows::WindowFiring {
        key: firing.key.clone(),
        start: firing.start,
        end: firing.end,
        kind: kind_to_wit(firing.kind),
        index: firing.index,
    }
}

impl PluginInstance {
    fn not_this_kind(&self, function: &'static str) -> CallFailure {
        CallFailure::NotThisKind {
            kind: self.kind(),
            function,
        }
    }

    fn checked_packed(
        &mut self,
        result: wasmtime::Result<Result<wit::PackedBytes, super::bindings::GuestError>>,
        expected: usize,
        what: &str,
    ) -> Result<Packed, CallFailure> {
        match result {
            Ok(Ok(packed)) => {
                let packed = from_wit(packed);
                packed
                    .validate(expected)
                    .map_err(|problem| CallFailure::InvalidOutput(format!("{what}: {problem}")))?;
                Ok(packed)
            }
            Ok(Err(error)) => Err(guest_failure(error)),
            Err(error) => Err(self.classify(error)),
        }
    }

    /// `aggregator.add`: updates `accumulators` in place. The events are handed back.
    ///
    /// # Errors
    /// The call's failure; `accumulators` is then unchanged.
    pub fn aggregate_add(
        &mut self,
        accumulators: &mut Packed,
        events: Batch,
        targets: &[u32],
    ) -> (Batch, Result<(), CallFailure>) {
        let Exports::WindowAggregate(exports) = &self.exports else {
            return (events, Err(self.not_this_kind("add")));
        };
        let exports = exports.weir_operator_aggregator();
        let input = wit::Batch::from(events);
        let count = accumulators.len();
        let packed = to_wit(std::mem::take(accumulators));
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = exports.call_add(&mut self.store, &packed, &input, targets);
        let events = Batch::from(input);
        let result = self.checked_packed(result, count, "accumulators from `add`");
        match result {
            Ok(updated) => {
                *accumulators = updated;
                (events, Ok(()))
            }
            Err(failure) => {
                *accumulators = from_wit(packed);
                (events, Err(failure))
            }
        }
    }

    /// `aggregator.merge`: one accumulator per group.
    ///
    /// # Errors
    /// The call's failure.
    pub fn aggregate_merge(
        &mut self,
        inputs: &Packed,
        group_ends: &[u32],
        buffers: &mut AggregateBuffers,
    ) -> Result<Packed, CallFailure> {
        let Exports::WindowAggregate(exports) = &self.exports else {
            return Err(self.not_this_kind("merge"));
        };
        let exports = exports.weir_operator_aggregator();
        let packed = buffers.fill_packed(inputs);
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = exports.call_merge(&mut self.store, packed, group_ends);
        self.checked_packed(result, group_ends.len(), "accumulators from `merge`")
    }

    /// `aggregator.finish`: one result value per accumulator.
    ///
    /// # Errors
    /// The call's failure.
    pub fn aggregate_finish(
        &mut self,
        accumulators: &Packed,
        firings: &[WindowFiring],
        buffers: &mut AggregateBuffers,
    ) -> Result<Packed, CallFailure> {
        let Exports::WindowAggregate(exports) = &self.exports else {
            return Err(self.not_this_kind("finish"));
        };
        let exports = exports.weir_operator_aggregator();
        let count = buffers.firings(firings);
        buffers.fill_packed(accumulators);
        let (Some(packed), Some(wit_firings)) = (&buffers.packed, buffers.firings.get(..count))
        else {
            return Err(CallFailure::InvalidOutput("no firing buffers".into()));
        };
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = exports.call_finish(&mut self.store, packed, wit_firings);
        self.checked_packed(result, count, "results from `finish`")
    }

    /// `window-processor.process`: the outputs of the firing windows. The events are
    /// handed back.
    ///
    /// # Errors
    /// The call's failure.
    pub fn process_windows(
        &mut self,
        firings: &[WindowFiring],
        event_ends: &[u32],
        events: Batch,
    ) -> (Batch, Result<CallOutputs, CallFailure>) {
        let Exports::WindowProcess(exports) = &self.exports else {
            return (events, Err(self.not_this_kind("process")));
        };
        let exports = exports.weir_operator_window_processor();
        let input = wit::Batch::from(events);
        let wit_firings: Vec<_> = firings.iter().map(firing_to_wit).collect();
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = exports.call_process(&mut self.store, &wit_firings, event_ends, &input);
        let events = Batch::from(input);
        let outputs = match result {
            Ok(Ok(outputs)) => self.check_outputs(outputs, events.len()),
            Ok(Err(error)) => Err(guest_failure(error)),
            Err(error) => Err(self.classify(error)),
        };
        (events, outputs)
    }
}
