//! The tasks at the end of a pipeline: sinks, the dead-letter sink, and the progress
//! line. Sinks write batches; each finishes once every input has ended. A sink's
//! only use of watermarks is to publish its input's (for the watermark lag of `GET
//! /metrics`).
//!
//! With checkpoints ([`SinkCheckpoints`]) a sink aligns barriers over its inputs like
//! a chain, pre-commits on each aligned barrier and acknowledges, and commits when the
//! coordinator publishes a completed checkpoint. At the end of a bounded run it
//! pre-commits what is left as the final checkpoint (one after the last barrier),
//! acknowledges the end and waits for that checkpoint to complete before it commits
//! and finishes; after a savepoint it drops what came after the barrier instead.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::align::{BarrierAligner, Delivery};
use super::channel::{Inbox, InputTracker};
use super::dead_letter::DeadLetter;
use super::message::Message;
use super::pipeline::PipelineError;
use super::stats::PipelineStats;
use super::watermarks::{Combined, InputWatermarks};
use crate::checkpoint::{Ack, AckAt, AckPayload};
use crate::connector::{DeadLetterSink, Sink};

/// How a sink takes part in checkpoints.
#[derive(Debug)]
pub(crate) struct SinkCheckpoints {
    pub acks: mpsc::UnboundedSender<Ack>,
    /// The latest completed checkpoint.
    pub commits: watch::Receiver<u64>,
    /// The checkpoint restored (0 for a fresh run).
    pub last_barrier: u64,
}

/// Waits for the coordinator to complete a checkpoint; never without checkpoints
/// or once the coordinator is gone.
///
/// # Cancel safety
/// Cancel safe (`watch::Receiver::changed`).
async fn next_commit(checkpoints: &mut Option<SinkCheckpoints>) -> u64 {
    if let Some(checkpoints) = checkpoints
        && checkpoints.commits.changed().await.is_ok()
    {
        return *checkpoints.commits.borrow_and_update();
    }
    std::future::pending().await
}

/// Writes what arrives in `inbox` from `inputs` producers to `sink` (number `index`
/// in the pipeline's statistics) until every input has ended.
pub(crate) async fn run_sink(
    mut sink: Box<dyn Sink>,
    mut inbox: Inbox,
    inputs: usize,
    stats: Arc<PipelineStats>,
    index: usize,
    mut checkpoints: Option<SinkCheckpoints>,
) -> Result<(), PipelineError> {
    let mut tracker = InputTracker::new(inputs);
    let mut watermarks = InputWatermarks::new(inputs);
    let sink_stats = &stats.sinks[index];
    let publish = |combined: Option<Combined>| {
        if let Some(Combined::Advanced(watermark)) = combined {
            sink_stats.watermark_ms.store(watermark, Relaxed);
        }
    };
    let mut aligner = BarrierAligner::new(inputs);
    let mut savepoint = None;
    loop {
        while let Some(delivery) = aligner.pop() {
            match delivery {
                Delivery::Message(envelope) => match envelope.message {
                    Message::Batch(batch) => {
                        sink.write(&batch).await?;
                        sink_stats.written.fetch_add(batch.len() as u64, Relaxed);
                        publish(watermarks.active(envelope.input));
                    }
                    Message::Watermark(watermark) => {
                        publish(watermarks.update(envelope.input, watermark));
                    }
                    Message::Idle => publish(watermarks.idle(envelope.input)),
                    Message::Barrier(_) => {}
                    Message::End => {
                        publish(watermarks.end(envelope.input));
                        if tracker.end(envelope.input) {
                            return end(sink, checkpoints, savepoint).await;
                        }
                    }
                },
                Delivery::Aligned(barrier) => {
                    let Some(checkpoints) = &mut checkpoints else {
                        continue;
                    };
                    sink.pre_commit(barrier.checkpoint).await?;
                    checkpoints.last_barrier = barrier.checkpoint;
                    if barrier.savepoint {
                        savepoint = Some(barrier.checkpoint);
                    }
                    // A coordinator that is gone has failed, and reports it.
                    let _ = checkpoints.acks.send(Ack {
                        task: sink.describe(),
                        at: AckAt::Checkpoint(barrier.checkpoint),
                        payload: AckPayload::Sink,
                    });
                }
            }
        }
        tokio::select! {
            envelope = inbox.recv() => match envelope {
                Some(envelope) => aligner.push(envelope),
                None => {
                    // Producers are gone without `End`: they failed and report it;
                    // keep what we have (uncommitted, with checkpoints).
                    sink.finish().await?;
                    return Ok(());
                }
            },
            completed = next_commit(&mut checkpoints) => sink.commit(completed).await?,
        }
    }
}

/// Every input has ended: finish (see the module docs).
async fn end(
    mut sink: Box<dyn Sink>,
    checkpoints: Option<SinkCheckpoints>,
    savepoint: Option<u64>,
) -> Result<(), PipelineError> {
    let Some(mut checkpoints) = checkpoints else {
        sink.finish().await?;
        return Ok(());
    };
    let last = match savepoint {
        Some(savepoint) => {
            sink.discard_uncommitted().await?;
            savepoint
        }
        None => {
            let last = checkpoints.last_barrier + 1;
            sink.finish().await?;
            sink.pre_commit(last).await?;
            let _ = checkpoints.acks.send(Ack {
                task: sink.describe(),
                at: AckAt::End,
                payload: AckPayload::Sink,
            });
            last
        }
    };
    drop(checkpoints.acks);
    if checkpoints
        .commits
        .wait_for(|done| *done >= last)
        .await
        .is_ok()
    {
        sink.commit(last).await?;
    }
    Ok(())
}

/// Writes dead letters until every sender is gone.
pub(crate) async fn run_dead_letters(
    mut sink: Box<dyn DeadLetterSink>,
    mut inbox: mpsc::Receiver<DeadLetter>,
    stats: Arc<PipelineStats>,
) -> Result<(), PipelineError> {
    while let Some(letter) = inbox.recv().await {
        sink.write(&letter).await?;
        stats.dead_letters_written.fetch_add(1, Relaxed);
    }
    sink.finish().await?;
    Ok(())
}

/// Prints a progress line to stderr every second, until aborted.
pub(crate) async fn report_progress(name: String, stats: Arc<PipelineStats>) {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let mut last = 0;
    loop {
        ticker.tick().await;
        let read = stats.events_read.load(Relaxed);
        let dead = stats.dead_letters_written.load(Relaxed);
        eprintln!(
            "[{name}] {:>6.1} s: {read} events read ({} /s), {dead} dead letters",
            started.elapsed().as_secs_f64(),
            read - last
        );
        last = read;
    }
}
