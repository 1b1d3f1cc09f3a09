//! Native-Rust operators over the same logic as the `bench-filter` and `bench-map`
//! plugins (`plugins/bench-logic`): the baseline the benchmarks compare Wasm with.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use weir_host::batch::Batch;
use weir_host::runtime::operator::{Emitted, Operator, OperatorError};
use weir_host::runtime::stats::OperatorStats;

pub use bench_logic::Shape;

/// The benchmark's filter, natively.
#[derive(Debug)]
pub struct NativeFilter {
    pub shape: Shape,
    pub stats: Arc<OperatorStats>,
}

/// The benchmark's map, natively.
#[derive(Debug)]
pub struct NativeMap {
    pub shape: Shape,
    pub stats: Arc<OperatorStats>,
    pub scratch: Vec<u8>,
}

fn account(stats: &OperatorStats, events_in: usize, out: &Batch, started: Instant) {
    stats.events_in.fetch_add(events_in as u64, Relaxed);
    stats.events_out.fetch_add(out.len() as u64, Relaxed);
    stats.batches.fetch_add(1, Relaxed);
    stats
        .busy_nanos
        .fetch_add(started.elapsed().as_nanos() as u64, Relaxed);
}

impl Operator for NativeFilter {
    fn name(&self) -> &str {
        "native-filter"
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        let started = Instant::now();
        out.main = Batch::with_capacity_like(&batch);
        for event in batch.iter() {
            let keep = match self.shape {
                Shape::Compact => bench_logic::compact_keep(event.value).unwrap_or(false),
                Shape::Json => bench_logic::json_keep(event.value).unwrap_or(false),
            };
            if keep {
                out.main.push_event(&event);
            }
        }
        account(&self.stats, batch.len(), &out.main, started);
        Ok(())
    }
}

impl Operator for NativeMap {
    fn name(&self) -> &str {
        "native-map"
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        let started = Instant::now();
        out.main = Batch::with_capacity_like(&batch);
        for event in batch.iter() {
            match self.shape {
                Shape::Compact => {
                    if let Some(record) = bench_logic::compact_rewrite(event.value) {
                        out.main.push_event_with_value(&event, &record);
                    }
                }
                Shape::Json => {
                    self.scratch.clear();
                    if bench_logic::json_rewrite(event.value, &mut self.scratch).is_ok() {
                        out.main.push_event_with_value(&event, &self.scratch);
                    }
                }
            }
        }
        account(&self.stats, batch.len(), &out.main, started);
        Ok(())
    }
}
