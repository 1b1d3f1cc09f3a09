//! [`Operator`]: the host-side contract of one step of a chain, whether it runs a Wasm
//! plugin ([`super::wasm_operator::WasmOperator`]) or native code (built-ins,
//! benchmark baselines). Lifecycle hooks have no-op defaults, so an operator
//! implements only what it needs.
//!
//! Checkpoints: [`Operator::snapshot`] is called between messages, once the barrier
//! of a checkpoint has arrived on every input, so it sees exactly the state of the
//! input before the barrier; [`Operator::restore`] is called before the first message
//! of a restored run. An operator that keeps state anywhere but in these snapshots
//! (e.g. in a plugin's memory) loses it in a crash.

use std::path::Path;

use weir_batch::{Batch, Timestamp};

use super::dead_letter::DeadLetter;
use crate::plugin::Plugin;

/// What an operator emitted while handling one message. Reused across calls: the
/// chain drains it after each.
#[derive(Debug, Default)]
pub struct Emitted {
    /// Events for the main output (the next operator, or the chain's consumers).
    pub main: Batch,
    /// Events for named outputs.
    pub named: Vec<(String, Batch)>,
    /// Input the operator could not process.
    pub dead_letters: Vec<DeadLetter>,
}

/// A failure the operator could not contain within its batch (for a Wasm operator:
/// a fresh instance could not be made). It stops the pipeline.
#[derive(Debug, thiserror::Error)]
#[error("operator `{operator}`: {message}")]
pub struct OperatorError {
    pub operator: String,
    pub message: String,
}

/// What an operator wrote for a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSnapshot {
    /// The backend that wrote it (`memory`, `rocksdb`), for logs.
    pub backend: String,
}

/// Blocks until a snapshot that goes on off the operator's thread is complete; its
/// failure as text.
pub type SnapshotWait = Box<dyn FnOnce() -> Result<(), String> + Send>;

/// One step of an operator chain, owned by one subtask.
pub trait Operator: Send {
    /// The operator's name in the pipeline.
    fn name(&self) -> &str;

    /// Handles one batch (never empty).
    ///
    /// # Errors
    /// Only for failures that must stop the pipeline: bad events and plugin faults are
    /// contained and dead-lettered through `out`.
    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError>;

    /// Called when the input watermark advances.
    ///
    /// # Errors
    /// As for [`Operator::process`].
    fn on_watermark(
        &mut self,
        _watermark: Timestamp,
        _out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Called periodically with the wall-clock time (ms since the Unix epoch), at
    /// least every few hundred milliseconds even when no message arrives: for
    /// processing-time timers and early firings.
    ///
    /// # Errors
    /// As for [`Operator::process`].
    fn on_processing_time(
        &mut self,
        _now_ms: i64,
        _out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Called once when every input has ended, before `End` is forwarded.
    ///
    /// # Errors
    /// As for [`Operator::process`].
    fn on_end(&mut self, _out: &mut Emitted) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Writes the operator's state into `dir`, this operator subtask's directory in
    /// the checkpoint (not yet created; the operator creates it). `None`: the operator
    /// has no state (the default), and `dir` stays absent.
    ///
    /// # Errors
    /// When the state cannot be written: the checkpoint, and the pipeline, fail.
    fn snapshot(&mut self, _dir: &Path) -> Result<Option<OperatorSnapshot>, OperatorError> {
        Ok(None)
    }

    /// As [`Operator::snapshot`], but the operator may go on writing `dir` on another
    /// thread after it returns: the [`SnapshotWait`], when there is one, blocks until
    /// `dir` is complete, and the checkpoint is acknowledged only then. The operator
    /// must not let later changes reach the snapshot. By default: `snapshot`, done.
    ///
    /// # Errors
    /// As [`Operator::snapshot`].
    fn snapshot_async(
        &mut self,
        dir: &Path,
    ) -> Result<(Option<OperatorSnapshot>, Option<SnapshotWait>), OperatorError> {
        Ok((self.snapshot(dir)?, None))
    }

    /// Replaces the operator's state with the snapshot in `dir` (written by
    /// [`Operator::snapshot`] of the same operator and subtask), before the first
    /// message.
    ///
    /// # Errors
    /// When the snapshot is missing or damaged: the run stops, never starts empty.
    fn restore(&mut self, dir: &Path) -> Result<(), OperatorError> {
        Err(OperatorError {
            operator: self.name().to_owned(),
            message: format!(
                "the checkpoint holds state for it ({}), but this operator keeps none",
                dir.display()
            ),
        })
    }

    /// Runs `plugin` from now on instead of the plugin it runs: a hot swap, called by
    /// the chain between two messages once a barrier has passed (see
    /// [`super::swap`]). State kept in the host (keyed state, timers) stays. `plugin`
    /// was loaded for this operator (its settings and limits).
    ///
    /// # Errors
    /// When the operator runs no plugin that can be swapped (the default), or the new
    /// plugin's instance does not start: the operator then keeps its plugin.
    fn swap_plugin(&mut self, plugin: &Plugin) -> Result<(), OperatorError> {
        Err(OperatorError {
            operator: self.name().to_owned(),
            message: format!(
                "cannot swap in {}: this operator does not run a swappable plugin",
                plugin.identity()
            ),
        })
    }
}
