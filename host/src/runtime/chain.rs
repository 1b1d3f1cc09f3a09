//! [`Chain`]: consecutive operators with the same parallelism, run by one subtask on
//! a task thread of its own. Chaining saves a channel hop (and a thread switch) per
//! operator: a batch goes through every operator of the chain in one pass.
//!
//! What a chain guarantees its operators and consumers:
//! - batches reach the operators in the order of their input, each operator's output
//!   going through the operators after it before the next message is handled;
//! - `on_watermark` is called when the combined watermark of the chain's inputs
//!   advances ([`InputWatermarks`]), and the watermark is forwarded after what the
//!   operators emitted for it; when every input is idle, `Idle` is forwarded;
//! - `on_processing_time` is called for every operator at most every
//!   [`PROCESSING_TIME_INTERVAL`] after a message, and at least that often while no
//!   message arrives (the receive wakes up for it, see [`TimedInbox`]);
//! - when the next stage is keyed, the [`KeySelector`] keys the main output before it
//!   leaves (events without a key are dead-lettered);
//! - checkpoint barriers are aligned over the inputs ([`BarrierAligner`]); once
//!   aligned, the barrier is forwarded, every operator's [`Operator::snapshot_async`]
//!   writes its state into the checkpoint (or starts writing it on a thread of its
//!   own), and the chain acknowledges to the coordinator once every snapshot is
//!   complete (from a thread that waits for them, when some are still being written;
//!   a failure there fails the chain at its next message); after a savepoint's
//!   barrier the chain stops at `End` without calling `on_end` or advancing the
//!   watermark (the run resumes from the savepoint instead);
//! - after an aligned barrier (and the snapshot), the plugin swaps armed at that
//!   barrier ([`SwapBoard`]) replace their operators' instances, before any message
//!   after the barrier is handled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use weir_batch::{Batch, Timestamp};

use super::align::{BarrierAligner, Delivery};
use super::channel::{Disconnected, Fanout, InputTracker};
use super::dead_letter::{DeadLetter, Origin};
use super::key_selector::KeySelector;
use super::message::Barrier;
use super::message::{Envelope, Message};
use super::operator::{Emitted, Operator, OperatorError};
use super::swap::SwapBoard;
use super::timed_recv::{Received, TimedInbox};
use super::watermarks::{Combined, InputWatermarks};
use crate::checkpoint::metadata::SnapshotEntry;
use crate::checkpoint::{Ack, AckAt, AckPayload, Layout};
use crate::connector::file::now_ms;

/// How often operators get `on_processing_time`, about.
pub const PROCESSING_TIME_INTERVAL: Duration = Duration::from_millis(100);

/// Why a chain subtask stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// An operator failed beyond what it could contain.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// A consumer is gone (the pipeline is stopping after a failure elsewhere).
    #[error("chain `{0}`: a downstream task stopped")]
    Disconnected(String),
}

/// Where one chain subtask sends what its operators emit.
#[derive(Debug)]
pub struct ChainOutputs {
    /// Consumers of the last operator's main output.
    pub main: Fanout,
    /// Keys the main output when the next stage is keyed.
    pub key_selector: Option<KeySelector>,
    /// Consumers of named outputs, by (operator index in the chain, output name).
    pub named: HashMap<(usize, String), Fanout>,
    /// The dead-letter output.
    pub dead_letters: mpsc::Sender<DeadLetter>,
}

/// How a chain subtask takes part in checkpoints.
#[derive(Debug, Clone)]
pub struct ChainCheckpoints {
    /// Where checkpoints go.
    pub layout: Layout,
    /// The chain's subtask index (the same for every operator in it).
    pub subtask: usize,
    /// The coordinator's acknowledgements.
    pub acks: mpsc::UnboundedSender<Ack>,
}

/// One subtask of a chain of operators.
pub struct Chain {
    name: String,
    operators: Vec<Box<dyn Operator>>,
    inbox: TimedInbox,
    inputs: usize,
    outputs: ChainOutputs,
    /// Dead letters of the key selector, reused.
    rejected: Vec<DeadLetter>,
    checkpoints: Option<ChainCheckpoints>,
    /// Plugin swaps of the running pipeline.
    swaps: Option<Arc<SwapBoard>>,
    /// A savepoint's barrier has passed: the pipeline is stopping.
    stopping: bool,
    /// The failure of a snapshot finished off this thread, for the next message.
    snapshot_failure: Arc<Mutex<Option<OperatorError>>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("name", &self.name)
            .field("operators", &self.operators.len())
            .finish_non_exhaustive()
    }
}

/// Whether the chain goes on after a message.
enum Flow {
    Continue,
    Ended,
}

impl Chain {
    /// A chain subtask named `name` (for logs and errors) running `operators` on what
    /// arrives in `inbox` from `inputs` upstream subtasks.
    pub fn new(
        name: String,
        operators: Vec<Box<dyn Operator>>,
        inbox: mpsc::Receiver<Envelope>,
        inputs: usize,
        outputs: ChainOutputs,
    ) -> Self {
        Chain {
            name,
            operators,
            inbox: TimedInbox::new(inbox),
            inputs,
            outputs,
            rejected: Vec::new(),
            checkpoints: None,
            swaps: None,
            stopping: false,
            snapshot_failure: Arc::default(),
        }
    }

    /// Takes part in checkpoints as `checkpoints` says.
    #[must_use]
    pub fn with_checkpoints(mut self, checkpoints: ChainCheckpoints) -> Self {
        self.checkpoints = Some(checkpoints);
        self
    }

    /// Applies the plugin swaps posted on `swaps` at the barriers they are armed at.
    #[must_use]
    pub fn with_swaps(mut self, swaps: Arc<SwapBoard>) -> Self {
        self.swaps = Some(swaps);
        self
    }

    /// Restores every operator that has a snapshot in a checkpoint: `snapshot_of`
    /// gives the directory of an operator (by name), if it has one.
    ///
    /// # Errors
    /// When an operator cannot restore its snapshot.
    pub fn restore(
        &mut self,
        snapshot_of: impl Fn(&str) -> Option<std::path::PathBuf>,
    ) -> Result<(), OperatorError> {
        for operator in &mut self.operators {
            if let Some(dir) = snapshot_of(operator.name()) {
                operator.restore(&dir)?;
            }
        }
        Ok(())
    }

    /// The chain's name, e.g. `parse+enrich[1]`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs until every input has ended (or a consumer is gone); blocks the thread.
    ///
    /// # Errors
    /// A [`ChainError`] when an operator fails beyond its batch or a consumer stopped.
    pub fn run(mut self) -> Result<(), ChainError> {
        let mut tracker = InputTracker::new(self.inputs);
        let mut watermarks = InputWatermarks::new(self.inputs);
        let mut scratch: Vec<Emitted> = self.operators.iter().map(|_| Emitted::default()).collect();
        let mut last_tick = Instant::now();
        let mut aligner = BarrierAligner::new(self.inputs);
        loop {
            if let Some(failure) = self.take_snapshot_failure() {
                return Err(failure.into());
            }
            while let Some(delivery) = aligner.pop() {
                match delivery {
                    Delivery::Message(envelope) => {
                        let flow =
                            self.handle(envelope, &mut tracker, &mut watermarks, &mut scratch)?;
                        if let Flow::Ended = flow {
                            return self.end(&mut scratch);
                        }
                    }
                    Delivery::Aligned(barrier) => self.checkpoint(barrier)?,
                }
            }
            let wait = PROCESSING_TIME_INTERVAL.saturating_sub(last_tick.elapsed());
            match self.inbox.recv_timeout(wait) {
                Received::Message(envelope) => aligner.push(envelope),
                Received::Timeout => {}
                // Every sender is gone without an `End`: an upstream task failed, and
                // reports it.
                Received::Closed => return Ok(()),
            }
            if last_tick.elapsed() >= PROCESSING_TIME_INTERVAL {
                self.processing_time(&mut scratch)?;
                last_tick = Instant::now();
            }
        }
    }

    fn handle(
        &mut self,
        envelope: Envelope,
        tracker: &mut InputTracker,
        watermarks: &mut InputWatermarks,
        scratch: &mut [Emitted],
    ) -> Result<Flow, ChainError> {
        let input = envelope.input;
        match envelope.message {
            Message::Batch(batch) if batch.is_empty() => {}
            Message::Batch(batch) => {
                let combined = watermarks.active(input);
                self.process(0, batch, scratch)?;
                self.progress(combined, scratch)?;
            }
            Message::Watermark(watermark) => {
                let combined = watermarks.update(input, watermark);
                self.progress(combined, scratch)?;
            }
            Message::Idle => {
                let combined = watermarks.idle(input);
                self.progress(combined, scratch)?;
            }
            // Barriers are taken by the aligner and handled by `checkpoint`.
            Message::Barrier(_) => {}
            Message::End => {
                let combined = watermarks.end(input);
                // After a savepoint the stream is not complete: an ended input must
                // not fire what waits for event time (the restored run will).
                if !self.stopping {
                    self.progress(combined, scratch)?;
                }
                if tracker.end(input) {
                    return Ok(Flow::Ended);
                }
            }
        }
        Ok(Flow::Continue)
    }

    fn progress(
        &mut self,
        combined: Option<Combined>,
        scratch: &mut [Emitted],
    ) -> Result<(), ChainError> {
        match combined {
            Some(Combined::Advanced(watermark)) => self.watermark(watermark, scratch),
            Some(Combined::Idle) => self.forward(&Message::Idle),
            None => Ok(()),
        }
    }

    /// Runs `batch` through the operators from `first` on.
    fn process(
        &mut self,
        first: usize,
        batch: Batch,
        scratch: &mut [Emitted],
    ) -> Result<(), ChainError> {
        let mut batch = batch;
        for (index, emitted) in scratch.iter_mut().enumerate().skip(first) {
            self.operators[index].process(batch, emitted)?;
            batch = std::mem::take(&mut emitted.main);
            self.route_side_outputs(index, emitted)?;
            if batch.is_empty() {
                return Ok(());
            }
        }
        self.send_main(batch)
    }

    fn watermark(
        &mut self,
        watermark: Timestamp,
        scratch: &mut [Emitted],
    ) -> Result<(), ChainError> {
        for index in 0..self.operators.len() {
            self.operators[index].on_watermark(watermark, &mut scratch[index])?;
            self.flush_emitted(index, scratch)?;
        }
        self.forward(&Message::Watermark(watermark))
    }

    fn processing_time(&mut self, scratch: &mut [Emitted]) -> Result<(), ChainError> {
        let now = now_ms();
        for index in 0..self.operators.len() {
            self.operators[index].on_processing_time(now, &mut scratch[index])?;
            self.flush_emitted(index, scratch)?;
        }
        Ok(())
    }

    fn end(mut self, scratch: &mut [Emitted]) -> Result<(), ChainError> {
        if !self.stopping {
            for index in 0..self.operators.len() {
                self.operators[index].on_end(&mut scratch[index])?;
                self.flush_emitted(index, scratch)?;
            }
        }
        self.forward(&Message::End)?;
        if let (Some(checkpoints), false) = (&self.checkpoints, self.stopping) {
            // The end of a bounded run: the final checkpoint needs no state.
            let _ = checkpoints.acks.send(Ack {
                task: self.name.clone(),
                at: AckAt::End,
                payload: AckPayload::Operators(Vec::new()),
            });
        }
        Ok(())
    }

    /// Barrier `barrier` arrived on every input: forward it, snapshot every operator,
    /// acknowledge, then swap the plugins armed at it.
    fn checkpoint(&mut self, barrier: Barrier) -> Result<(), ChainError> {
        self.forward(&Message::Barrier(barrier))?;
        if barrier.savepoint {
            self.stopping = true;
        }
        self.snapshot(barrier)?;
        self.apply_swaps(barrier.checkpoint);
        Ok(())
    }

    /// Replaces the instances of the operators whose swaps are armed at `barrier`.
    fn apply_swaps(&mut self, barrier: u64) {
        let Some(board) = self.swaps.clone() else {
            return;
        };
        let names: Vec<&str> = self
            .operators
            .iter()
            .map(|operator| operator.name())
            .collect();
        let swaps = board.armed_at(barrier, &names);
        for swap in swaps {
            let started = Instant::now();
            let Some(operator) = self
                .operators
                .iter_mut()
                .find(|operator| operator.name() == swap.operator())
            else {
                continue;
            };
            let result = operator
                .swap_plugin(swap.plugin())
                .map(|()| started.elapsed());
            match &result {
                Ok(pause) => tracing::debug!(
                    target: "weir::deploy",
                    chain = %self.name,
                    barrier,
                    plugin = %swap.plugin().identity(),
                    micros = pause.as_micros() as u64,
                    "plugin swapped"
                ),
                Err(error) => tracing::error!(
                    target: "weir::deploy",
                    chain = %self.name,
                    barrier,
                    "plugin swap failed; the old version keeps running: {error}"
                ),
            }
            board.subtask_done(&swap, result);
        }
    }

    /// Snapshots every operator for `barrier` and acknowledges, in a checkpointed run:
    /// at once, or — when operators finish their snapshots off this thread — from a
    /// thread that waits for them (a failure there fails the chain at its next message).
    fn snapshot(&mut self, barrier: Barrier) -> Result<(), ChainError> {
        let Some(checkpoints) = &self.checkpoints else {
            return Ok(());
        };
        let dir = checkpoints.layout.checkpoint_dir(barrier.checkpoint);
        let started = Instant::now();
        let mut entries = Vec::new();
        let mut waits = Vec::new();
        for operator in &mut self.operators {
            let relative =
                std::path::Path::new(operator.name()).join(checkpoints.subtask.to_string());
            let target = dir.join(&relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|error| OperatorError {
                    operator: operator.name().to_owned(),
                    message: format!("checkpoint: cannot create {}: {error}", parent.display()),
                })?;
            }
            let (snapshot, wait) = operator.snapshot_async(&target)?;
            if snapshot.is_some() {
                entries.push(SnapshotEntry {
                    operator: operator.name().to_owned(),
                    subtask: checkpoints.subtask,
                    path: relative,
                });
            }
            waits.extend(wait.map(|wait| (operator.name().to_owned(), wait)));
        }
        // How long the chain stopped processing for the snapshot.
        tracing::debug!(
            target: "weir::checkpoint",
            chain = %self.name,
            checkpoint = barrier.checkpoint,
            micros = started.elapsed().as_micros() as u64,
            "snapshot taken"
        );
        let ack = Ack {
            task: self.name.clone(),
            at: AckAt::Checkpoint(barrier.checkpoint),
            payload: AckPayload::Operators(entries),
        };
        if waits.is_empty() {
            // A coordinator that is gone has failed, and reports it.
            let _ = checkpoints.acks.send(ack);
            return Ok(());
        }
        let (acks, failure) = (checkpoints.acks.clone(), self.snapshot_failure.clone());
        std::thread::Builder::new()
            .name(format!("weir-ack-{}", barrier.checkpoint))
            .spawn(move || {
                for (operator, wait) in waits {
                    if let Err(message) = wait() {
                        tracing::error!(target: "weir::checkpoint", checkpoint = barrier.checkpoint, "{message}");
                        let mut failure = failure.lock().unwrap_or_else(PoisonError::into_inner);
                        failure.get_or_insert(OperatorError { operator, message });
                        return;
                    }
                }
                let _ = acks.send(ack);
            })
            .map_err(|error| OperatorError {
                operator: self.name.clone(),
                message: format!("checkpoint: cannot start a thread: {error}"),
            })?;
        Ok(())
    }

    /// The failure of a snapshot finished off this thread, if one failed.
    fn take_snapshot_failure(&self) -> Option<OperatorError> {
        self.snapshot_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn flush_emitted(&mut self, index: usize, scratch: &mut [Emitted]) -> Result<(), ChainError> {
        let batch = std::mem::take(&mut scratch[index].main);
        self.route_side_outputs(index, &mut scratch[index])?;
        if batch.is_empty() {
            Ok(())
        } else if index + 1 < self.operators.len() {
            self.process(index + 1, batch, scratch)
        } else {
            self.send_main(batch)
        }
    }

    /// Sends the last operator's output on, keyed first when the next stage is.
    fn send_main(&mut self, batch: Batch) -> Result<(), ChainError> {
        let batch = match &mut self.outputs.key_selector {
            Some(selector) => {
                let keyed = selector.select(batch, &mut self.rejected);
                for letter in self.rejected.drain(..) {
                    self.outputs
                        .dead_letters
                        .blocking_send(letter)
                        .map_err(|_| ChainError::Disconnected(self.name.clone()))?;
                }
                keyed
            }
            None => batch,
        };
        if batch.is_empty() {
            return Ok(());
        }
        self.outputs
            .main
            .blocking_send_batch(batch)
            .map_err(|error| self.disconnected(error))
    }

    fn forward(&mut self, message: &Message) -> Result<(), ChainError> {
        self.outputs
            .main
            .blocking_broadcast(message)
            .map_err(|error| self.disconnected(error))?;
        for fanout in self.outputs.named.values_mut() {
            fanout
                .blocking_broadcast(message)
                .map_err(|_| ChainError::Disconnected(self.name.clone()))?;
        }
        Ok(())
    }

    /// Sends named outputs to their consumers and dead letters to the dead-letter
    /// output. A named output the pipeline routes nowhere is dead-lettered too: events
    /// never vanish silently.
    fn route_side_outputs(
        &mut self,
        index: usize,
        emitted: &mut Emitted,
    ) -> Result<(), ChainError> {
        for (output, batch) in emitted.named.drain(..) {
            match self.outputs.named.get_mut(&(index, output.clone())) {
                Some(fanout) => fanout
                    .blocking_send_batch(batch)
                    .map_err(|_| ChainError::Disconnected(self.name.clone()))?,
                None => {
                    let origin = Origin::Unrouted {
                        operator: self.operators[index].name().to_owned(),
                        output: output.clone(),
                    };
                    for event in batch.iter() {
                        emitted.dead_letters.push(DeadLetter::for_event(
                            origin.clone(),
                            format!("output `{output}` is not routed to any sink in the pipeline"),
                            &event,
                        ));
                    }
                }
            }
        }
        for letter in emitted.dead_letters.drain(..) {
            self.outputs
                .dead_letters
                .blocking_send(letter)
                .map_err(|_| ChainError::Disconnected(self.name.clone()))?;
        }
        Ok(())
    }

    fn disconnected(&self, _: Disconnected) -> ChainError {
        ChainError::Disconnected(self.name.clone())
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
