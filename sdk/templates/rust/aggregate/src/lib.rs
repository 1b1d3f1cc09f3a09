//! `{{name}}`: an incremental window aggregate, a Weir plugin (world
//! `window-aggregate`).
//!
//! The count and sum of the number at `field` (a setting, a dotted JSON path; default
//! `amount`) per key and window. The host assigns events to windows and keeps one
//! small accumulator per window (never the events), so windows of any size cost the
//! same. Each window's result:
//! `{"key": "ann", "window_start": 0, "window_end": 1000, "firing": "on-time",
//! "firing_index": 0, "count": 2, "sum": 15.5}`. An event without a number there goes
//! to the dead-letter output; the rest of the batch is added.
//!
//! Build with `weir build` (or `sh build.sh`), test with `weir test`.

use serde::{Deserialize, Serialize};
use weir_sdk::{Aggregate, Error, Event, EventExt, JsonPath, Settings, WindowInfo};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: Option<JsonPath>,
}

struct CountAndSum {
    field: JsonPath,
}

/// The accumulator the host keeps per window.
#[derive(Serialize, Deserialize, Default)]
struct Totals {
    count: u64,
    sum: f64,
}

impl Aggregate for CountAndSum {
    type Acc = Totals;

    fn new(settings: Settings) -> Result<Self, Error> {
        let field = match settings.parse::<Config>()?.field {
            Some(field) => field,
            None => "amount".parse()?,
        };
        Ok(CountAndSum { field })
    }

    fn init(&self) -> Totals {
        Totals::default()
    }

    fn add(&self, acc: &mut Totals, event: &Event<'_>) -> Result<(), Error> {
        let value: f64 = event
            .json_at(&self.field)?
            .ok_or_else(|| Error::invalid_input(format!("no number at `{}`", self.field)))?;
        acc.count += 1;
        acc.sum += value;
        Ok(())
    }

    fn merge(&self, acc: &mut Totals, other: Totals) {
        acc.count += other.count;
        acc.sum += other.sum;
    }

    fn finish(&self, acc: Totals, window: &WindowInfo<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        #[derive(Serialize)]
        struct Result<'a> {
            #[serde(flatten)]
            window: WindowInfo<'a>,
            count: u64,
            sum: f64,
        }
        let result = Result { window: *window, count: acc.count, sum: acc.sum };
        serde_json::to_writer(out, &result).map_err(Error::internal)
    }
}

weir_sdk::export_aggregate!(CountAndSum);
