//! [`Chain`]: consecutive operators with the same parallelism, run by one subtask on
//! a task thread of its own. Chaining saves a channel hop (and a thread switch) per
//! operator: a batch goes through every operator of the chain in one pass.

use std::collections::HashMap;

use tokio::sync::mpsc;
use weir_batch::Timestamp;

use super::channel::{Disconnected, Fanout, Inbox, InputTracker};
use super::dead_letter::{DeadLetter, Origin};
use super::message::Message;
use super::operator::{Emitted, Operator, OperatorError};
use super::watermarks::InputWatermarks;

/// Why a chain subtask stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Operator(#[from] OperatorError),
    #[error("chain `{0}`: a downstream task stopped")]
    Disconnected(String),
}

/// Where one chain subtask sends what its operators emit.
#[derive(Debug)]
pub struct ChainOutputs {
    /// Consumers of the last operator's main output.
    pub main: Fanout,
    /// Consumers of named outputs, by (operator index in the chain, output name).
    pub named: HashMap<(usize, String), Fanout>,
    /// The dead-letter output.
    pub dead_letters: mpsc::Sender<DeadLetter>,
}

/// One subtask of a chain of operators.
pub struct Chain {
    pub(crate) name: String,
    pub(crate) operators: Vec<Box<dyn Operator>>,
    pub(crate) inbox: Inbox,
    pub(crate) inputs: usize,
    pub(crate) outputs: ChainOutputs,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("name", &self.name)
            .field("operators", &self.operators.len())
            .finish_non_exhaustive()
    }
}

impl Chain {
    /// Runs until every input has ended (or a consumer is gone); blocks the thread.
    ///
    /// # Errors
    /// A [`ChainError`] when an operator fails beyond its batch or a consumer stopped.
    pub fn run(mut self) -> Result<(), ChainError> {
        let mut tracker = InputTracker::new(self.inputs);
        let mut watermarks = InputWatermarks::new(self.inputs);
        let mut scratch: Vec<Emitted> = self.operators.iter().map(|_| Emitted::default()).collect();
        while let Some(envelope) = self.inbox.blocking_recv() {
            match envelope.message {
                Message::Batch(batch) if batch.is_empty() => {}
                Message::Batch(batch) => self.process(0, batch, &mut scratch)?,
                Message::Watermark(watermark) => {
                    if let Some(advanced) = watermarks.update(envelope.input, watermark) {
                        self.watermark(advanced, &mut scratch)?;
                    }
                }
                Message::Barrier(barrier) => self.forward(&Message::Barrier(barrier))?,
                Message::End => {
                    if let Some(advanced) = watermarks.end(envelope.input) {
                        self.watermark(advanced, &mut scratch)?;
                    }
                    if tracker.end(envelope.input) {
                        return self.end(&mut scratch);
                    }
                }
            }
        }
        // Every sender is gone without an `End`: an upstream task failed, and reports it.
        Ok(())
    }

    /// Runs `batch` through the operators from `first` on.
    fn process(
        &mut self,
        first: usize,
        batch: weir_batch::Batch,
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
        self.outputs
            .main
            .blocking_send_batch(batch)
            .map_err(|error| self.disconnected(error))
    }

    fn watermark(
        &mut self,
        watermark: Timestamp,
        scratch: &mut [Emitted],
    ) -> Result<(), ChainError> {
        for index in 0..self.operators.len() {
            let emitted = &mut scratch[index];
            self.operators[index].on_watermark(watermark, emitted)?;
            self.flush_emitted(index, scratch)?;
        }
        self.forward(&Message::Watermark(watermark))
    }

    fn end(mut self, scratch: &mut [Emitted]) -> Result<(), ChainError> {
        for index in 0..self.operators.len() {
            self.operators[index].on_end(&mut scratch[index])?;
            self.flush_emitted(index, scratch)?;
        }
        self.forward(&Message::End)
    }

    /// Sends what operator `index` emitted outside `process` down the rest of the chain.
    fn flush_emitted(&mut self, index: usize, scratch: &mut [Emitted]) -> Result<(), ChainError> {
        let batch = std::mem::take(&mut scratch[index].main);
        self.route_side_outputs(index, &mut scratch[index])?;
        if batch.is_empty() {
            Ok(())
        } else if index + 1 < self.operators.len() {
            self.process(index + 1, batch, scratch)
        } else {
            self.outputs
                .main
                .blocking_send_batch(batch)
                .map_err(|error| self.disconnected(error))
        }
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
