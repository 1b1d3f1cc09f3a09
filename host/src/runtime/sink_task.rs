//! The tasks at the end of a pipeline: sinks, the dead-letter sink, and the progress
//! line. Sinks write batches and ignore watermarks, idleness and barriers; each
//! finishes once every input has ended.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::channel::{Inbox, InputTracker};
use super::dead_letter::DeadLetter;
use super::message::Message;
use super::pipeline::PipelineError;
use super::stats::PipelineStats;
use crate::connector::{DeadLetterSink, Sink};

/// Writes what arrives in `inbox` from `inputs` producers to `sink` (number `index`
/// in the pipeline's statistics) until every input has ended.
pub(crate) async fn run_sink(
    mut sink: Box<dyn Sink>,
    mut inbox: Inbox,
    inputs: usize,
    stats: Arc<PipelineStats>,
    index: usize,
) -> Result<(), PipelineError> {
    let mut tracker = InputTracker::new(inputs);
    while let Some(envelope) = inbox.recv().await {
        match envelope.message {
            Message::Batch(batch) => {
                sink.write(&batch).await?;
                stats.sinks[index].1.fetch_add(batch.len() as u64, Relaxed);
            }
            Message::Watermark(_) | Message::Idle | Message::Barrier(_) => {}
            Message::End => {
                if tracker.end(envelope.input) {
                    sink.finish().await?;
                    return Ok(());
                }
            }
        }
    }
    // Producers are gone without `End`: they failed and report it; keep what we have.
    sink.finish().await?;
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
