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
    firings: Option<wit_windows::WindowFirings>,
}

/// Copies `packed` into the reused WIT buffer `buffer`.
fn fill_packed<'a>(
    buffer: &'a mut Option<wit::PackedBytes>,
    packed: &Packed,
) -> &'a wit::PackedBytes {
    let buffer = buffer.get_or_insert_with(|| wit::PackedBytes {
        bytes: Vec::new(),
        ends: Vec::new(),
    });
    buffer.bytes.clear();
    buffer.bytes.extend_from_slice(&packed.bytes);
    buffer.ends.clear();
    buffer.ends.extend_from_slice(&packed.ends);
    buffer
}

fn empty_firings() -> wit_windows::WindowFirings {
    wit_windows::WindowFirings {
        keys: Vec::new(),
        key_ends: Vec::new(),
        keyless: Vec::new(),
        starts: Vec::new(),
        ends: Vec::new(),
        kinds: Vec::new(),
        indexes: Vec::new(),
    }
}

/// Lays `firings` out by column in `out` (cleared first), as `wit/windows.wit` says.
fn firings_to_wit(firings: &[WindowFiring], out: &mut wit_windows::WindowFirings) {
    out.keys.clear();
    out.key_ends.clear();
    out.keyless.clear();
    out.starts.clear();
    out.ends.clear();
    out.kinds.clear();
    out.indexes.clear();
    for (at, firing) in firings.iter().enumerate() {
        match &firing.key {
            Some(key) => out.keys.extend_from_slice(key),
            None => out.keyless.push(at as u32),
        }
        let end = u32::try_from(out.keys.len()).unwrap_or(u32::MAX);
        out.key_ends.push(end);
        out.starts.push(firing.start);
        out.ends.push(firing.end);
        out.kinds.push(kind_to_wit(firing.kind));
        out.indexes.push(firing.index);
    }
}

fn kind_to_wit(kind: FiringKind) -> wit_windows::FiringKind {
    match kind {
        FiringKind::Early => wit_windows::FiringKind::Early,
        FiringKind::OnTime => wit_windows::FiringKind::OnTime,
        FiringKind::Late => wit_windows::FiringKind::Late,
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
        let packed = fill_packed(&mut buffers.packed, inputs);
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
        let AggregateBuffers {
            packed,
            firings: columns,
        } = buffers;
        let packed = fill_packed(packed, accumulators);
        let wit_firings = columns.get_or_insert_with(empty_firings);
        firings_to_wit(firings, wit_firings);
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = exports.call_finish(&mut self.store, packed, wit_firings);
        self.checked_packed(result, firings.len(), "results from `finish`")
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
        let mut wit_firings = empty_firings();
        firings_to_wit(firings, &mut wit_firings);
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
