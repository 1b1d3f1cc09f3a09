//! `session-features`: features of each session — a window process function (world
//! `window-process`) meant for session windows (`window = { session = "30m" }`),
//! though any window works.
//!
//! For each firing window it emits one JSON object, keyed by the window's key at the
//! window's last millisecond:
//!
//! `{"key":"user-1","window_start":1000,"window_end":1801000,"firing":"on-time","firing_index":0,
//! "events":4,"first_timestamp":1000,"last_timestamp":1000000,"duration_ms":999000,
//! "distinct_field":"page","distinct_count":2,"distinct_values":["home","cart"],"without_field":1}`
//!
//! `duration_ms` is `last_timestamp - first_timestamp` (0 for one event). The
//! `distinct_*` fields and `without_field` appear only with the `field` setting: the
//! distinct values of that field, in the order first seen (strings as they are, other
//! JSON values as they are written), at most `max_distinct` of them (`distinct_count`
//! counts them all); `without_field` counts events whose value is not a JSON object
//! holding the field.
//!
//! Settings: `field` (optional dotted path, like `page`), `max_distinct` (default 100).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use weir_sdk::{
    Error, Event, EventExt, JsonPath, Output, Settings, StateRegistry, Timestamp, WindowContext,
    WindowInfo, WindowProcessor,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: Option<JsonPath>,
    #[serde(default = "default_max_distinct")]
    max_distinct: usize,
}

fn default_max_distinct() -> usize {
    100
}

struct SessionFeatures {
    config: Config,
}

/// One session's features.
#[derive(Serialize)]
struct Features<'a> {
    #[serde(flatten)]
    window: WindowInfo<'a>,
    events: usize,
    first_timestamp: Option<Timestamp>,
    last_timestamp: Option<Timestamp>,
    duration_ms: i64,
    #[serde(flatten)]
    distinct: Option<Distinct>,
}

/// The distinct values of the `field` setting.
#[derive(Serialize)]
struct Distinct {
    distinct_field: String,
    distinct_count: usize,
    distinct_values: Vec<Value>,
    without_field: usize,
}

impl Distinct {
    fn of(path: &JsonPath, events: &[Event<'_>], max: usize) -> Distinct {
        let mut seen = HashSet::new();
        let mut distinct = Distinct {
            distinct_field: path.to_string(),
            distinct_count: 0,
            distinct_values: Vec::new(),
            without_field: 0,
        };
        for event in events {
            let Ok(Some(value)) = event.json_at::<Value>(path) else {
                distinct.without_field += 1;
                continue;
            };
            let text = match &value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if seen.insert(text) {
                distinct.distinct_count += 1;
                if distinct.distinct_values.len() < max {
                    distinct.distinct_values.push(value);
                }
            }
        }
        distinct
    }
}

impl WindowProcessor for SessionFeatures {
    fn init(settings: Settings, _states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        Ok(SessionFeatures {
            config: settings.parse()?,
        })
    }

    fn process(
        &mut self,
        window: &WindowInfo<'_>,
        events: &[Event<'_>],
        _ctx: &mut WindowContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        // The host hands a window's events in timestamp order; min/max do not rely on it.
        let first = events.iter().map(|event| event.timestamp).min();
        let last = events.iter().map(|event| event.timestamp).max();
        let features = Features {
            window: *window,
            events: events.len(),
            first_timestamp: first,
            last_timestamp: last,
            duration_ms: match (first, last) {
                (Some(first), Some(last)) => last.saturating_sub(first),
                _ => 0,
            },
            distinct: self
                .config
                .field
                .as_ref()
                .map(|path| Distinct::of(path, events, self.config.max_distinct)),
        };
        out.emit_window_json(window, &features)
    }
}

weir_sdk::export_window_processor!(SessionFeatures);
