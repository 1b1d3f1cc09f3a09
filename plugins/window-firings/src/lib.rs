//! `window-firings`: counts the firings of each window in per-window state — a window
//! process function (world `window-process`) showing `WindowContext` state, as Flink's
//! `ProcessWindowFunction.Context.windowState()`.
//!
//! For each firing it emits, keyed by the window's key at the window's last
//! millisecond:
//!
//! `{"key":"a","start":0,"end":10,"kind":"late","firing":3,"events":5}`
//!
//! `firing` is how many times this window has fired, this firing included, counted in
//! a `ValueState` scoped to the key and the window: it grows over a window's early,
//! on-time and late firings and starts again at 1 in a window whose state the host
//! purged. `events` is the number of events the window holds.
//!
//! Session windows merge, and per-window state does not exist for them: the state
//! call fails, this plugin returns the error, and the host dead-letters the window's
//! events with "per-window state is not available for merging (session) windows".
//!
//! No settings.

use serde::Serialize;
use weir_sdk::{
    Error, Event, Output, Settings, StateRegistry, ValueState, WindowContext, WindowInfo,
    WindowProcessor,
};

struct WindowFirings {
    firings: ValueState<u32>,
}

#[derive(Serialize)]
struct FiringCount<'a> {
    key: Option<std::borrow::Cow<'a, str>>,
    start: i64,
    end: i64,
    kind: &'static str,
    firing: u32,
    events: usize,
}

impl WindowProcessor for WindowFirings {
    fn init(_settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        Ok(WindowFirings {
            firings: states.value("firings").declare()?,
        })
    }

    fn process(
        &mut self,
        window: &WindowInfo<'_>,
        events: &[Event<'_>],
        ctx: &mut WindowContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let firing = self.firings.get(ctx)?.unwrap_or(0).saturating_add(1);
        self.firings.set(ctx, &firing)?;
        let result = FiringCount {
            key: window.key_lossy(),
            start: window.start,
            end: window.end,
            kind: window.kind.as_str(),
            firing,
            events: events.len(),
        };
        out.emit_window_json(window, &result)
    }
}

weir_sdk::export_window_processor!(WindowFirings);
