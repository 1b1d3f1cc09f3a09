//! The window glue against the in-memory host: firings get their events and scopes.

use weir_batch::Batch;

use super::export::{init_with, run_process};
use super::*;
use crate::ValueState;
use crate::state::memory::MemoryState;

/// An emitted event's key, value and timestamp.
type Row<'a> = (Option<&'a [u8]>, &'a [u8], i64);

/// Emits the events' values joined, and how often the window fired before (from state).
struct Join {
    fired: ValueState<u32>,
}

impl WindowProcessor for Join {
    fn init(_settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        Ok(Join {
            fired: states.value("fired").declare()?,
        })
    }

    fn process(
        &mut self,
        window: &WindowInfo<'_>,
        events: &[Event<'_>],
        ctx: &mut WindowContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let fired = self.fired.get(ctx)?.unwrap_or(0);
        self.fired.set(ctx, &(fired + 1))?;
        let joined: Vec<u8> = events
            .iter()
            .flat_map(|event| event.value.to_vec())
            .collect();
        out.emit_window_json(window, &(String::from_utf8_lossy(&joined), fired))
    }
}

fn firing(key: &[u8], start: i64) -> WindowInfo<'_> {
    WindowInfo {
        key: Some(key),
        start,
        end: start + 10,
        kind: Firing::OnTime,
        index: 0,
    }
}

#[test]
fn firing_i_gets_its_events_and_scope_i() {
    let state = MemoryState::with_scopes(3);
    let mut join: Join = init_with("{}".into(), &state).expect("inits");
    let mut batch = Batch::default();
    for (value, timestamp) in [("a", 1), ("b", 2), ("c", 11)] {
        batch.push(Some(b"k"), value.as_bytes(), timestamp);
    }
    let firings = [firing(b"k", 0), firing(b"k", 10), firing(b"j", 20)];
    let out = run_process(&mut join, &firings, &[2, 3, 3], &batch, &state).expect("runs");
    let results: Vec<Row<'_>> = out
        .main
        .iter()
        .map(|event| (event.key, event.value, event.timestamp))
        .collect();
    assert_eq!(
        results,
        [
            (Some(&b"k"[..]), &br#"["ab",0]"#[..], 9),
            (Some(&b"k"[..]), &br#"["c",0]"#[..], 19),
            (Some(&b"j"[..]), &br#"["",0]"#[..], 29),
        ]
    );
    let again = run_process(&mut join, &firings[..1], &[2], &batch, &state).expect("runs");
    assert_eq!(
        again.main.event(0).value,
        br#"["ab",1]"#,
        "state is per scope"
    );
}

#[test]
fn malformed_event_ends_are_errors() {
    let state = MemoryState::with_scopes(2);
    let mut join: Join = init_with("{}".into(), &state).expect("inits");
    let batch = Batch::default();
    let firings = [firing(b"k", 0)];
    assert!(run_process(&mut join, &firings, &[1], &batch, &state).is_err());
    assert!(run_process(&mut join, &firings, &[], &batch, &state).is_err());
}
