//! `bench-filter`: the boundary benchmark's filter (see `bench-logic`). Settings:
//! `shape = "compact" | "json"`.

use bench_logic::Shape;
use serde::Deserialize;
use weir_sdk::{Error, Event, Filter};

#[derive(Deserialize)]
struct BenchFilter {
    shape: Shape,
}

impl Filter for BenchFilter {
    fn keep(&mut self, event: &Event<'_>) -> Result<bool, Error> {
        match self.shape {
            Shape::Compact => bench_logic::compact_keep(event.value)
                .ok_or_else(|| Error::invalid_input("not a 16-byte record")),
            Shape::Json => Ok(bench_logic::json_keep(event.value)?),
        }
    }
}

weir_sdk::export_filter!(BenchFilter);
