//! [`DiscardSink`]: a sink that drops events and only counts them, for benchmarks and
//! for pipelines whose side effects are elsewhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use weir_batch::Batch;

use super::{ConnectorError, Sink};

/// Drops every event, counting them in a counter others can read while it runs.
#[derive(Debug, Default)]
pub struct DiscardSink {
    events: Arc<AtomicU64>,
}

impl DiscardSink {
    /// A sink whose counter starts at 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of events written so far, shared: it keeps counting after the call.
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.events)
    }
}

#[async_trait]
impl Sink for DiscardSink {
    fn describe(&self) -> String {
        "discard".to_owned()
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        self.events.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_events_through_a_shared_counter() {
        let mut sink = DiscardSink::new();
        let counter = sink.counter();
        assert_eq!(sink.describe(), "discard");
        let mut batch = Batch::default();
        batch.push(None, b"a", 1);
        batch.push(Some(b"k"), b"b", 2);
        sink.write(&batch).await.expect("writes");
        sink.write(&Batch::default()).await.expect("writes");
        sink.write(&batch.slice(0..1)).await.expect("writes");
        sink.finish().await.expect("finishes");
        assert_eq!(counter.load(Ordering::Relaxed), 3);
    }
}
