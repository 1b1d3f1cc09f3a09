//! Incremental window aggregates: [`Aggregate`] is `init / add / merge / finish` over
//! an accumulator type of the plugin's, which the host keeps in its state between
//! calls (so a window never buffers its events).

mod adapter;
pub(crate) mod export;

pub use adapter::Adapter;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::event::Event;
use crate::window::WindowInfo;
use crate::{Error, Settings};

/// An incremental window aggregate. Export it with [`crate::export_aggregate!`].
///
/// The host assigns events to windows, keeps one accumulator per key and window (or
/// pane), and calls the plugin with many accumulators at once; the SDK decodes each
/// accumulator once per call (with postcard; the host's empty accumulator becomes
/// [`Aggregate::init`]), applies every event of the call aimed at it, and encodes it
/// once. Accumulators therefore live in the host, never in `self`: the instance may be
/// replaced at any moment, and calls may be replayed, split or regrouped. Every method
/// must be deterministic.
pub trait Aggregate: Sized + 'static {
    /// The accumulator: what the aggregate remembers about a window so far.
    type Acc: Serialize + DeserializeOwned;

    /// Builds the aggregate from its settings.
    ///
    /// # Errors
    /// [`Error::config`] to refuse the settings: the pipeline does not start.
    fn new(settings: Settings) -> Result<Self, Error>;

    /// A fresh accumulator, for a window that has seen nothing yet.
    fn init(&self) -> Self::Acc;

    /// Adds one event to an accumulator.
    ///
    /// # Errors
    /// [`Error::invalid_input`] for an event that cannot be aggregated: the call fails,
    /// and the host re-runs its events one by one to dead-letter the bad ones.
    fn add(&self, acc: &mut Self::Acc, event: &Event<'_>) -> Result<(), Error>;

    /// Merges `other` into `acc` (session windows merging, panes of a sliding window).
    /// Must be associative, with [`Aggregate::init`] as its neutral element.
    fn merge(&self, acc: &mut Self::Acc, other: Self::Acc);

    /// Writes the window's result value into `out` (empty): it becomes the value of a
    /// result event whose key, timestamp and headers the host sets (see
    /// [`crate::Output::emit_window`] for their shape).
    ///
    /// # Errors
    /// When no result can be computed; the call fails.
    fn finish(
        &self,
        acc: Self::Acc,
        window: &WindowInfo<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error>;
}

#[cfg(test)]
mod tests;
