//! [`Output`]: where a plugin puts what it emits during one call.

use serde::Serialize;
use weir_batch::Batch;

use crate::event::{Event, Timestamp};

/// The events a call emits: to the main output, to named outputs, and the input
/// events it rejects (which the host sends to the dead-letter output).
#[derive(Debug, Default)]
pub struct Output {
    pub(crate) main: Batch,
    pub(crate) named: Vec<(String, Batch)>,
    pub(crate) rejected: Vec<(u32, String)>,
    scratch: Vec<u8>,
}

impl Output {
    /// An output with room for as many events and bytes as `input` has: what a map or
    /// filter emits at most, so the main batch never grows while being filled.
    pub(crate) fn sized_for(input: &Batch) -> Self {
        Output {
            main: Batch::with_capacity_like(input),
            ..Output::default()
        }
    }

    /// Forwards `event` unchanged to the main output.
    pub fn emit(&mut self, event: &Event<'_>) {
        self.main.push_event(event);
    }

    /// Emits `event` with its value replaced by `value` (key, time and headers kept).
    pub fn emit_value(&mut self, event: &Event<'_>, value: &[u8]) {
        self.main.push_event_with_value(event, value);
    }

    /// Emits `event` with its value replaced by `value` serialised as JSON.
    pub fn emit_json<T: Serialize + ?Sized>(&mut self, event: &Event<'_>, value: &T) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        if serde_json::to_writer(&mut scratch, value).is_ok() {
            self.main.push_event_with_value(event, &scratch);
        } else {
            self.reject(event, "value does not serialise to JSON");
        }
        self.scratch = scratch;
    }

    /// Emits a new event to the main output.
    pub fn emit_new(&mut self, key: Option<&[u8]>, value: &[u8], timestamp: Timestamp) {
        self.main.push(key, value, timestamp);
    }

    /// Forwards `event` unchanged to the named output `output`, which the plugin must
    /// list in its exported outputs (see [`crate::Processor::OUTPUTS`]).
    pub fn emit_to(&mut self, output: &str, event: &Event<'_>) {
        self.named_batch(output).push_event(event);
    }

    /// Emits a new event to the named output `output`.
    pub fn emit_new_to(
        &mut self,
        output: &str,
        key: Option<&[u8]>,
        value: &[u8],
        timestamp: Timestamp,
    ) {
        self.named_batch(output).push(key, value, timestamp);
    }

    /// Sends input `event` to the dead-letter output with `reason`; the rest of the
    /// batch goes on.
    pub fn reject(&mut self, event: &Event<'_>, reason: impl std::fmt::Display) {
        self.rejected.push((event.index, reason.to_string()));
    }

    fn named_batch(&mut self, output: &str) -> &mut Batch {
        let position = match self.named.iter().position(|(name, _)| name == output) {
            Some(position) => position,
            None => {
                self.named.push((output.to_owned(), Batch::default()));
                self.named.len() - 1
            }
        };
        &mut self.named[position].1
    }
}
