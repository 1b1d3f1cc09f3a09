//! `bench-map`: the boundary benchmark's map (see `bench-logic`). Settings:
//! `shape = "compact" | "json"`.

use bench_logic::Shape;
use serde::Deserialize;
use weir_sdk::{Error, Event, Map};

#[derive(Deserialize)]
struct BenchMap {
    shape: Shape,
}

impl Map for BenchMap {
    fn map(&mut self, event: &Event<'_>, value: &mut Vec<u8>) -> Result<(), Error> {
        match self.shape {
            Shape::Compact => {
                let record = bench_logic::compact_rewrite(event.value)
                    .ok_or_else(|| Error::invalid_input("not a 16-byte record"))?;
                value.extend_from_slice(&record);
                Ok(())
            }
            Shape::Json => Ok(bench_logic::json_rewrite(event.value, value)?),
        }
    }
}

weir_sdk::export_map!(BenchMap);
