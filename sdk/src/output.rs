//! [`Output`]: where a plugin puts what it emits during one call.

use serde::Serialize;
use weir_batch::Batch;

use crate::Error;
use crate::event::{Event, Timestamp};
use crate::window::WindowInfo;

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

    /// Emits every event of `batch`, key, time and headers kept, with its value
    /// replaced by the next `width` bytes of `values` (event `i`'s is
    /// `values[i * width..(i + 1) * width]`): a map of the whole batch in one step,
    /// without walking its events (see `Batch::fixed_width_values` for the input side).
    ///
    /// # Panics
    /// If `values` does not hold `width` bytes for each event of `batch`.
    pub fn emit_all_with_values(&mut self, batch: &Batch, values: &[u8], width: usize) {
        self.main.extend_with_values(batch, values, width);
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

    /// Emits a new event to the main output with `value` serialised as JSON.
    ///
    /// # Errors
    /// [`Error::internal`] when `value` does not serialise (e.g. a map with non-string
    /// keys); nothing is emitted then.
    pub fn emit_new_json<T: Serialize + ?Sized>(
        &mut self,
        key: Option<&[u8]>,
        value: &T,
        timestamp: Timestamp,
    ) -> Result<(), Error> {
        let scratch = self.json_scratch(value)?;
        self.main.push(key, &scratch, timestamp);
        self.scratch = scratch;
        Ok(())
    }

    /// Emits a new event to the named output `output` with `value` serialised as JSON.
    ///
    /// # Errors
    /// As for [`Output::emit_new_json`].
    pub fn emit_new_json_to<T: Serialize + ?Sized>(
        &mut self,
        output: &str,
        key: Option<&[u8]>,
        value: &T,
        timestamp: Timestamp,
    ) -> Result<(), Error> {
        let scratch = self.json_scratch(value)?;
        self.named_batch(output).push(key, &scratch, timestamp);
        self.scratch = scratch;
        Ok(())
    }

    /// Emits a result of `window` to the main output, shaped as Weir's window results
    /// are: the window's key, its last millisecond (`end - 1`) as timestamp, and the
    /// headers `window_start`, `window_end`, `firing` and `firing_index` (decimal text).
    pub fn emit_window(&mut self, window: &WindowInfo<'_>, value: &[u8]) {
        push_window_result(&mut self.main, window, value);
    }

    /// [`Output::emit_window`] with `value` serialised as JSON.
    ///
    /// # Errors
    /// As for [`Output::emit_new_json`].
    pub fn emit_window_json<T: Serialize + ?Sized>(
        &mut self,
        window: &WindowInfo<'_>,
        value: &T,
    ) -> Result<(), Error> {
        let scratch = self.json_scratch(value)?;
        push_window_result(&mut self.main, window, &scratch);
        self.scratch = scratch;
        Ok(())
    }

    /// [`Output::emit_window`] to the named output `output`.
    pub fn emit_window_to(&mut self, output: &str, window: &WindowInfo<'_>, value: &[u8]) {
        push_window_result(self.named_batch(output), window, value);
    }

    /// Sends input `event` to the dead-letter output with `reason`; the rest of the
    /// batch goes on.
    pub fn reject(&mut self, event: &Event<'_>, reason: impl std::fmt::Display) {
        self.rejected.push((event.index, reason.to_string()));
    }

    /// `value` as JSON in the scratch buffer, taken out of `self` (put it back after use).
    fn json_scratch<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Vec<u8>, Error> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        match serde_json::to_writer(&mut scratch, value) {
            Ok(()) => Ok(scratch),
            Err(error) => {
                self.scratch = scratch;
                Err(Error::internal(format!(
                    "value does not serialise to JSON: {error}"
                )))
            }
        }
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

/// Appends a window result to `batch`; see [`Output::emit_window`].
fn push_window_result(batch: &mut Batch, window: &WindowInfo<'_>, value: &[u8]) {
    batch.push(window.key, value, window.last_millisecond());
    batch.push_header("window_start", window.start.to_string().as_bytes());
    batch.push_header("window_end", window.end.to_string().as_bytes());
    batch.push_header("firing", window.kind.as_str().as_bytes());
    batch.push_header("firing_index", window.index.to_string().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Firing;

    #[test]
    fn window_results_carry_key_last_millisecond_and_headers() {
        let window = WindowInfo {
            key: Some(b"k"),
            start: 1_000,
            end: 2_000,
            kind: Firing::Late,
            index: 2,
        };
        let mut out = Output::default();
        out.emit_window_json(&window, &serde_json::json!({"n": 1}))
            .expect("serialises");
        out.emit_window_to("side", &window, b"x");
        let event = out.main.event(0);
        assert_eq!(event.key, Some(&b"k"[..]));
        assert_eq!(event.timestamp, 1_999);
        assert_eq!(event.value, br#"{"n":1}"#);
        let headers: Vec<(&str, &[u8])> = event
            .headers
            .iter()
            .map(|header| (header.name.as_str(), header.value.as_slice()))
            .collect();
        assert_eq!(
            headers,
            [
                ("window_start", &b"1000"[..]),
                ("window_end", b"2000"),
                ("firing", b"late"),
                ("firing_index", b"2"),
            ]
        );
        assert_eq!(out.named[0].0, "side");
        assert_eq!(out.named[0].1.event(0).headers.len(), 4);
        assert!(out.main.validate().is_ok() && out.named[0].1.validate().is_ok());
    }

    #[test]
    fn json_that_does_not_serialise_emits_nothing() {
        let mut out = Output::default();
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1);
        assert!(out.emit_new_json(None, &bad, 0).is_err());
        assert!(out.main.is_empty());
        out.emit_new_json_to("alerts", Some(b"d"), &[1, 2], 5)
            .expect("serialises");
        assert_eq!(out.named[0].1.event(0).value, b"[1,2]");
    }
}
