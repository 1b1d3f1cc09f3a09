//! Checkpoints written off the processing thread, as Flink's asynchronous snapshots:
//! at the barrier the operator only takes its changes from the store and encodes the
//! changed entries (the removed ones are encoded on the thread);
//! its state — the backend — then moves to a thread of its own, which orders the
//! changes into one batch, writes it and snapshots the backend into the checkpoint
//! directory, while the operator goes on with the next events on its heap working set.
//!
//! Laws:
//! - **The snapshot is the barrier's.** The batch holds the entries and scalars as they
//!   were at the barrier, and nothing else reaches the backend until the thread is
//!   done: every other use of the backend (the next checkpoint, a window function's
//!   per-window state, a restore, closing it) first waits for the thread and takes
//!   the state back ([`WindowOperator::finish_snapshot`]).
//! - **A failure is not lost.** A write or snapshot that failed is reported to the
//!   checkpoint's waiter (the checkpoint fails), and again by the operator's next use
//!   of its state (the pipeline fails).
//! - **Dropping the operator waits** for the thread, so that its backend (a RocksDB
//!   instance's lock on its working directory) is closed when the operator is gone.

use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use super::WindowOperator;
use super::durable::{Durable, Persisted, WindowStateError};
use crate::runtime::keyed_store::OperatorState;
use crate::state::StateError;

/// What the snapshot thread gives back: the state, and how its work went.
type Outcome = (Box<OperatorState>, Result<(), StateError>);

/// A checkpoint being written by its thread.
#[derive(Debug)]
pub(crate) struct InFlight {
    /// `None` once joined.
    thread: Option<JoinHandle<Outcome>>,
}

/// Waits for a checkpoint started by [`WindowOperator::begin_checkpoint`].
#[derive(Debug)]
pub struct CheckpointWait {
    done: Receiver<Result<(), String>>,
}

impl CheckpointWait {
    /// Blocks until the checkpoint's files are complete.
    ///
    /// # Errors
    /// The write or snapshot that failed, as text.
    pub fn wait(self) -> Result<(), String> {
        self.done
            .recv()
            .unwrap_or_else(|_| Err("the snapshot thread stopped without a result".into()))
    }

    /// The checkpoint's outcome if its files are complete, without blocking: `None`
    /// while its thread is still writing. An outcome is given once.
    pub fn try_wait(&self) -> Option<Result<(), String>> {
        match self.done.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                Some(Err("the snapshot thread stopped without a result".into()))
            }
        }
    }
}

impl WindowOperator {
    /// Starts a checkpoint of the operator's state into `dir` (which must not exist):
    /// the changes since the last checkpoint are taken at once, and written and
    /// snapshotted on a thread of their own (see the module docs).
    ///
    /// # Errors
    /// The previous checkpoint's failure, a state that is lent or has unsettled
    /// writes, a batch that cannot be encoded, a thread that cannot start.
    pub fn begin_checkpoint(
        &mut self,
        dir: &Path,
    ) -> Result<(Persisted, CheckpointWait), WindowStateError> {
        self.finish_snapshot()?;
        let ready = self
            .durable
            .state
            .as_mut()
            .ok_or_else(|| WindowStateError::Lent {
                operator: self.name.clone(),
            })?
            .backend_mut()
            .is_some();
        if !ready {
            return Err(WindowStateError::Pending {
                operator: self.name.clone(),
            });
        }
        let (changes, changed) = self.take_encoded_changes()?;
        // The removed windows travel with the changes: their buffer is not reused.
        self.durable.return_buffers(changed, Vec::new());
        let persisted = changes.persisted();
        let Some(mut state) = self.durable.state.take() else {
            unreachable!("checked above");
        };
        let (report, done) = sync_channel(1);
        let path = dir.display().to_string();
        let dir = dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("weir-snapshot".into())
            .spawn(move || {
                let result = match state.backend_mut() {
                    Some(backend) => changes.to_batch().and_then(|(batch, _)| {
                        backend.write(batch)?;
                        backend.snapshot_to(&dir)
                    }),
                    None => unreachable!("checked before the state moved here"),
                };
                let _ = report.send(result.as_ref().map(|_| ()).map_err(ToString::to_string));
                (state, result)
            })
            .map_err(|error| {
                self.state_error(StateError::Snapshot {
                    path,
                    message: format!("cannot start the snapshot thread: {error}"),
                })
            })?;
        self.durable.in_flight = Some(InFlight {
            thread: Some(thread),
        });
        Ok((persisted, CheckpointWait { done }))
    }

    /// Waits for the checkpoint being written, if any, and takes the state back.
    ///
    /// # Errors
    /// The checkpoint's write or snapshot failed (or its thread panicked, and the
    /// state is gone).
    pub(crate) fn finish_snapshot(&mut self) -> Result<(), WindowStateError> {
        self.durable
            .finish_snapshot()
            .map_err(|source| self.state_error(source))
    }
}

impl Durable {
    /// [`WindowOperator::finish_snapshot`], for the parts of the operator that hold
    /// only its [`Durable`].
    pub(crate) fn finish_snapshot(&mut self) -> Result<(), StateError> {
        let Some(thread) = self
            .in_flight
            .take()
            .and_then(|mut in_flight| in_flight.thread.take())
        else {
            return Ok(());
        };
        let (state, result) = thread.join().map_err(|_| StateError::Snapshot {
            path: String::new(),
            message: "the snapshot thread panicked; the state is lost".into(),
        })?;
        self.state = Some(state);
        result
    }
}

impl Drop for InFlight {
    /// The operator is dropped with a checkpoint in flight: let it finish (and close
    /// the backend it holds).
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
