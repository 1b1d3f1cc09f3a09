//! The keyed glue against in-memory hosts: scopes follow events and timers.

use std::cell::RefCell;

use weir_batch::Batch;

use super::export::{init_with, run_on_timer, run_process};
use super::*;
use crate::ValueState;
use crate::state::memory::MemoryState;
use crate::wit::keyed::exports::weir::operator::keyed_processor::FiredTimer;
use crate::wit::state::StateError;

/// An emitted event's key, value and timestamp.
type Row<'a> = (Option<&'a [u8]>, &'a [u8], i64);

#[derive(Default)]
struct MemoryTimers {
    calls: RefCell<Vec<(&'static str, u32, WitTimeDomain, Timestamp)>>,
}

impl TimerHost for MemoryTimers {
    fn register(&self, scope: u32, domain: WitTimeDomain, at: Timestamp) -> Result<(), StateError> {
        self.calls
            .borrow_mut()
            .push(("register", scope, domain, at));
        Ok(())
    }

    fn delete(&self, scope: u32, domain: WitTimeDomain, at: Timestamp) -> Result<(), StateError> {
        self.calls.borrow_mut().push(("delete", scope, domain, at));
        Ok(())
    }

    fn watermark(&self) -> Option<Timestamp> {
        Some(42)
    }

    fn processing_time(&self) -> Timestamp {
        7
    }
}

/// Counts events per key, sets an event-time timer 10 ms after each, and on a timer
/// emits the count.
struct Counter {
    count: ValueState<u64>,
}

impl KeyedProcessor for Counter {
    const OUTPUTS: &'static [&'static str] = &["timers"];

    fn init(_settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        Ok(Counter {
            count: states.value("count").declare()?,
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let n = self.count.get(ctx)?.unwrap_or(0) + 1;
        self.count.set(ctx, &n)?;
        ctx.register_event_timer(ctx.timestamp() + 10)?;
        assert_eq!((ctx.watermark(), ctx.processing_time()), (Some(42), 7));
        out.emit_value(event, n.to_string().as_bytes());
        Ok(())
    }

    fn on_timer(
        &mut self,
        timer: &Timer<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        assert_eq!(ctx.key(), Some(timer.key));
        assert_eq!(ctx.timestamp(), timer.at);
        let n = self.count.get(ctx)?.unwrap_or(0);
        ctx.delete_processing_timer(timer.at)?;
        out.emit_new_to("timers", ctx.key(), n.to_string().as_bytes(), timer.at);
        Ok(())
    }
}

#[test]
fn event_i_runs_in_scope_i() {
    let state = MemoryState::with_scopes(3);
    let timers = MemoryTimers::default();
    let mut counter: Counter = init_with("{}".into(), &state).expect("inits");
    let mut batch = Batch::default();
    batch.push(Some(b"a"), b"", 100);
    batch.push(Some(b"b"), b"", 200);
    batch.push(Some(b"c"), b"", 300);
    let out = run_process(&mut counter, &batch, &state, &timers).expect("runs");
    let values: Vec<&[u8]> = out.main.iter().map(|event| event.value).collect();
    assert_eq!(values, [b"1", b"1", b"1"], "three scopes, one event each");
    assert_eq!(
        *timers.calls.borrow(),
        [
            ("register", 0, WitTimeDomain::EventTime, 110),
            ("register", 1, WitTimeDomain::EventTime, 210),
            ("register", 2, WitTimeDomain::EventTime, 310),
        ]
    );
    // The memory host's scope 0 holds what event 0 wrote; in a second call scope 0 is
    // whatever key the host says, here the same one.
    let out = run_process(&mut counter, &batch.slice(0..1), &state, &timers).expect("runs");
    assert_eq!(out.main.event(0).value, b"2");
}

#[test]
fn timer_i_runs_in_scope_i() {
    let state = MemoryState::with_scopes(2);
    let timers = MemoryTimers::default();
    let mut counter: Counter = init_with("{}".into(), &state).expect("inits");
    let mut batch = Batch::default();
    batch.push(Some(b"x"), b"", 1);
    batch.push(Some(b"y"), b"", 2);
    run_process(&mut counter, &batch, &state, &timers).expect("runs");
    timers.calls.borrow_mut().clear();
    let fired = [
        FiredTimer {
            key: b"x".to_vec(),
            at: 11,
            domain: WitTimeDomain::EventTime,
        },
        FiredTimer {
            key: b"y".to_vec(),
            at: 12,
            domain: WitTimeDomain::ProcessingTime,
        },
    ];
    let out = run_on_timer(&mut counter, &fired, &state, &timers).expect("runs");
    assert!(out.main.is_empty());
    let (name, events) = &out.named[0];
    assert_eq!(name, "timers");
    let emitted: Vec<Row<'_>> = events
        .iter()
        .map(|event| (event.key, event.value, event.timestamp))
        .collect();
    assert_eq!(
        emitted,
        [
            (Some(&b"x"[..]), &b"1"[..], 11),
            (Some(&b"y"[..]), &b"1"[..], 12)
        ]
    );
    assert_eq!(
        *timers.calls.borrow(),
        [
            ("delete", 0, WitTimeDomain::ProcessingTime, 11),
            ("delete", 1, WitTimeDomain::ProcessingTime, 12),
        ]
    );
}

#[test]
fn an_error_fails_the_call() {
    struct Fails;
    impl KeyedProcessor for Fails {
        fn init(_settings: Settings, _states: &mut StateRegistry<'_>) -> Result<Self, Error> {
            Ok(Fails)
        }
        fn process(
            &mut self,
            _event: &Event<'_>,
            _ctx: &mut KeyedContext<'_>,
            _out: &mut Output,
        ) -> Result<(), Error> {
            Err(Error::invalid_input("no"))
        }
    }
    let state = MemoryState::with_scopes(1);
    let mut fails: Fails = init_with("{}".into(), &state).expect("inits");
    let mut batch = Batch::default();
    batch.push(Some(b"a"), b"", 1);
    let timers = MemoryTimers::default();
    assert!(run_process(&mut fails, &batch, &state, &timers).is_err());
    let none = run_on_timer(&mut fails, &[], &state, &timers).expect("default on_timer");
    assert!(none.main.is_empty());
}
