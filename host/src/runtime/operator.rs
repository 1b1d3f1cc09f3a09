//! [`Operator`]: the host-side contract of one step of a chain, whether it runs a Wasm
//! plugin ([`super::wasm_operator::WasmOperator`]) or native code (built-ins,
//! benchmark baselines). Lifecycle hooks have no-op defaults, so an operator
//! implements only what it needs.

use weir_batch::{Batch, Timestamp};

use super::dead_letter::DeadLetter;

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

    /// Called every so often (the chain calls it every ~100–200 ms) with the wall
    /// clock in milliseconds since the Unix epoch, for processing-time work such as
    /// early window firings. The only hook that sees the wall clock: what it emits is
    /// not replayed identically from a checkpoint.
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
}
