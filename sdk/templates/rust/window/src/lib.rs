//! `{{name}}`: a window process function, a Weir plugin (world `window-process`).
//!
//! Sees all events of a window when it fires (the host buffers them in its state) and
//! emits, keyed by the window's key at its last millisecond:
//! `{"window": {...}, "events": 3, "first": 1000, "last": 1500, "values": ["home", "cart"]}`
//! — the number of events, the first and last event times, and the values of `field`
//! (a setting, a dotted JSON path; default `page`) in event-time order.
//!
//! Build with `weir build` (or `sh build.sh`), test with `weir test`.

use serde::Deserialize;
use serde_json::{Value, json};
use weir_sdk::{
    Error, Event, EventExt, JsonPath, Output, Settings, StateRegistry, WindowContext, WindowInfo,
    WindowProcessor,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: Option<JsonPath>,
}

struct WindowSummary {
    field: JsonPath,
}

impl WindowProcessor for WindowSummary {
    fn init(settings: Settings, _states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let field = match settings.parse::<Config>()?.field {
            Some(field) => field,
            None => "page".parse()?,
        };
        Ok(WindowSummary { field })
    }

    fn process(
        &mut self,
        window: &WindowInfo<'_>,
        events: &[Event<'_>],
        _ctx: &mut WindowContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let values: Vec<Value> = events
            .iter()
            .filter_map(|event| event.json_at::<Value>(&self.field).ok().flatten())
            .collect();
        let summary = json!({
            "window": window,
            "events": events.len(),
            "first": events.first().map(|event| event.timestamp),
            "last": events.last().map(|event| event.timestamp),
            "values": values,
        });
        out.emit_window_json(window, &summary)
    }
}

weir_sdk::export_window_processor!(WindowSummary);
