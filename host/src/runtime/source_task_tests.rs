//! The source task, run against scripted and real sources, with a collector in place
//! of the next stage: what arrives downstream, and in which order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use weir_batch::{Batch, Timestamp};

use super::*;
use crate::connector::generator::{GeneratorSource, GeneratorSpec, ValueShape};
use crate::connector::{ConnectorError, Source};
use crate::runtime::channel::{Fanout, Outlet, Partitioning, inboxes};
use crate::runtime::message::{Envelope, Message};
use crate::runtime::stats::PipelineStats;
use crate::time::WatermarkSpec;

/// What a scripted source does next.
#[derive(Debug)]
enum Step {
    /// A batch with these times.
    Batch(Vec<Timestamp>),
    /// Nothing for this long.
    Silence(Duration),
}

#[derive(Debug)]
struct Scripted(VecDeque<Step>);

#[async_trait]
impl Source for Scripted {
    fn describe(&self) -> String {
        "scripted".into()
    }

    async fn next_batch(
        &mut self,
        _max_events: usize,
        _dead_letters: &mut Vec<DeadLetter>,
    ) -> Result<Option<Batch>, ConnectorError> {
        loop {
            match self.0.pop_front() {
                None => return Ok(None),
                Some(Step::Silence(how_long)) => tokio::time::sleep(how_long).await,
                Some(Step::Batch(times)) => {
                    let mut batch = Batch::default();
                    for time in times {
                        batch.push(None, b"{}", time);
                    }
                    return Ok(Some(batch));
                }
            }
        }
    }
}

/// Runs `source` into a collector and returns every message it got, in order.
async fn run_collected(source: Box<dyn Source>, watermarks: WatermarkSpec) -> Vec<Message> {
    let (senders, mut collectors) = inboxes(1, 1024);
    let (dead_letters, _dead) = mpsc::channel(1024);
    let task = SourceTask {
        source,
        fanout: Fanout::new(vec![Outlet::new(senders, 0, Partitioning::RoundRobin)]),
        key_selector: None,
        dead_letters,
        batch_size: 100,
        watermarks,
        stats: Arc::new(PipelineStats::default()),
        checkpoints: None,
        swaps: None,
    };
    task.run().await.expect("the source runs to its end");
    let mut messages = Vec::new();
    while let Some(Envelope { message, .. }) = collectors[0].recv().await {
        messages.push(message);
    }
    messages
}

fn spec(delay_ms: i64, idle_timeout_ms: Option<u64>) -> WatermarkSpec {
    WatermarkSpec {
        delay_ms,
        idle_timeout_ms,
    }
}

#[tokio::test]
async fn watermarks_follow_batches_only_forwards_and_end_at_infinity() {
    let source = GeneratorSource::new(GeneratorSpec {
        count: Some(5_000),
        shape: ValueShape::Compact,
        disorder_ms: 40,
        ..GeneratorSpec::default()
    });
    let messages = run_collected(Box::new(source), spec(40, None)).await;
    let mut watermark = Timestamp::MIN;
    let (mut events, mut watermarks) = (0, 0);
    for message in &messages[..messages.len() - 2] {
        match message {
            Message::Batch(batch) => {
                for &time in batch.timestamps() {
                    assert!(
                        time > watermark,
                        "{time} is late for {watermark}: delay >= disorder"
                    );
                }
                events += batch.len();
            }
            Message::Watermark(next) => {
                assert!(*next > watermark, "{next} after {watermark}");
                watermark = *next;
                watermarks += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(events, 5_000);
    assert!(
        watermarks >= 10,
        "a watermark after most batches: {watermarks}"
    );
    assert_eq!(
        messages[messages.len() - 2..],
        [Message::Watermark(Timestamp::MAX), Message::End]
    );
}

#[tokio::test]
async fn a_silent_source_reports_its_watermark_and_goes_idle_once() {
    let script = VecDeque::from([
        Step::Batch(vec![1_000, 990]),
        Step::Silence(Duration::from_millis(700)),
        Step::Batch(vec![900]),
        Step::Batch(vec![2_000]),
    ]);
    let messages = run_collected(Box::new(Scripted(script)), spec(0, Some(150))).await;
    let kinds: Vec<String> = messages
        .iter()
        .map(|message| match message {
            Message::Batch(batch) => format!("batch{:?}", batch.timestamps()),
            Message::Watermark(Timestamp::MAX) => "max".into(),
            Message::Watermark(watermark) => format!("wm{watermark}"),
            Message::Idle => "idle".into(),
            Message::End => "end".into(),
            Message::Barrier(_) => "barrier".into(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "batch[1000, 990]",
            "wm999",
            "idle",
            "batch[900]",
            "batch[2000]",
            "wm1999",
            "max",
            "end"
        ],
        "idle once while silent; the late batch does not move the watermark"
    );
}

#[tokio::test]
async fn ingestion_time_sources_still_end_with_infinity() {
    let script = VecDeque::from([
        Step::Batch(vec![]),
        Step::Silence(Duration::from_millis(10)),
    ]);
    let messages = run_collected(Box::new(Scripted(script)), WatermarkSpec::default()).await;
    assert_eq!(
        messages,
        [Message::Watermark(Timestamp::MAX), Message::End],
        "empty batches are not sent"
    );
}
