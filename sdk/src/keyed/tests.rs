//! The keyed glue against in-memory hosts: scopes follow events and timers.

use std::cell::RefCell;

use weir_batch::Batch;

use super::export::{init_with, run_on_timer, run_process};
use super::*;
use crate::ValueState;
use crate::state::memory::{Entry, MemoryState};
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

/// The value at (state 0, `scope`) of the memory host, decoded as a count.
fn stored_count(state: &MemoryState, scope: u32) -> Option<u64> {
    match state.entries.borrow().get(&(0, scope)) {
        Some(Entry::Value(bytes)) => Some(postcard::from_bytes(bytes).expect("a count")),
        _ => None,
    }
}

#[test]
fn a_key_seen_twice_in_a_call_reads_its_own_write_and_is_written_back_once() {
    let state = MemoryState::with_scopes(3);
    let timers = MemoryTimers::default();
    let mut counter: TestCounter = init_with("{}".into(), &state).expect("inits");
    let mut batch = Batch::default();
    batch.push(Some(b"a"), b"", 1);
    batch.push(Some(b"b"), b"", 2);
    batch.push(Some(b"a"), b"", 3);
    let out = run_process(&mut counter, &batch, &state, &timers).expect("runs");
    let values: Vec<&[u8]> = out.main.iter().map(|event| event.value).collect();
    // The memory host keeps scopes apart: had event 2 gone to the host, it would have
    // read scope 2, found nothing, and counted 1.
    assert_eq!(values, [&b"1/1"[..], b"1/1", b"2/2"]);
    assert_eq!(
        (0..3)
            .map(|scope| stored_count(&state, scope))
            .collect::<Vec<_>>(),
        [Some(2), Some(1), None],
        "each key written back once, through its first scope"
    );
}

#[test]
fn a_failed_call_writes_nothing_back() {
    // With get and set, and with update; the failing event's key seen before or not.
    for (settings, failing_key) in [("{}", b"b"), (UPDATE, b"a")] {
        let state = MemoryState::with_scopes(2);
        let timers = MemoryTimers::default();
        let mut counter: TestCounter = init_with(settings.into(), &state).expect("inits");
        let mut batch = Batch::default();
        batch.push(Some(b"a"), b"", 1);
        batch.push(Some(failing_key), b"fail", 2);
        assert!(run_process(&mut counter, &batch, &state, &timers).is_err());
        assert!(
            state.entries.borrow().is_empty(),
            "{settings}: nothing reached the host"
        );
    }
}

#[test]
fn a_value_the_host_refuses_fails_the_call_naming_its_state() {
    let state = MemoryState {
        value_limit: Some(0),
        ..MemoryState::with_scopes(1)
    };
    let timers = MemoryTimers::default();
    let mut counter: TestCounter = init_with("{}".into(), &state).expect("inits");
    let mut batch = Batch::default();
    batch.push(Some(b"a"), b"", 1);
    let error = run_process(&mut counter, &batch, &state, &timers)
        .expect_err("the count is larger than the host's limit");
    let message = error.to_string();
    assert!(
        message.contains("state `count`") && message.contains("limit of 0 bytes"),
        "{message}"
    );
}

#[test]
fn timers_share_the_cache_of_their_call() {
    let state = MemoryState::with_scopes(2);
    let timers = MemoryTimers::default();
    let mut counter: Counter = init_with("{}".into(), &state).expect("inits");
    let mut batch = Batch::default();
    batch.push(Some(b"x"), b"", 1);
    run_process(&mut counter, &batch, &state, &timers).expect("runs");
    // Two timers of one key: both read the count event 0 left, through scope 0.
    let fired = [11, 12].map(|at| FiredTimer {
        key: b"x".to_vec(),
        at,
        domain: WitTimeDomain::EventTime,
    });
    let out = run_on_timer(&mut counter, &fired, &state, &timers).expect("runs");
    let values: Vec<&[u8]> = out.named[0].1.iter().map(|event| event.value).collect();
    assert_eq!(values, [b"1", b"1"]);
}

/// Counts events per key, with `get` then `set` or, with settings `{"update": true}`,
/// with `update`, and emits `count/count read back`; an event `set:N` sets the count
/// to N with `set`; an event `fail` fails the call after counting.
struct TestCounter {
    count: ValueState<u64>,
    update: bool,
}

impl KeyedProcessor for TestCounter {
    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let settings: serde_json::Value = settings.parse()?;
        Ok(TestCounter {
            count: states.value("count").declare()?,
            update: settings["update"] == true,
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        if let Some(n) = event.value.strip_prefix(b"set:") {
            let n: u64 = std::str::from_utf8(n).expect("text").parse().expect("n");
            return self.count.set(ctx, &n);
        }
        let n = if self.update {
            self.count.update(
                ctx,
                || 0,
                |n| {
                    *n += 1;
                    *n
                },
            )?
        } else {
            let n = self.count.get(ctx)?.unwrap_or(0) + 1;
            self.count.set(ctx, &n)?;
            n
        };
        if event.value == b"fail" {
            return Err(Error::invalid_input("fail"));
        }
        let read = self.count.get(ctx)?.expect("just written");
        out.emit_value(event, format!("{n}/{read}").as_bytes());
        Ok(())
    }
}

/// A [`TestCounter`] counting with `update`.
const UPDATE: &str = r#"{"update": true}"#;

#[test]
fn updates_are_read_back_mix_with_set_and_are_written_back_once() {
    let state = MemoryState::with_scopes(5);
    let timers = MemoryTimers::default();
    let mut counter: TestCounter = init_with(UPDATE.into(), &state).expect("inits");
    let mut batch = Batch::default();
    batch.push(Some(b"a"), b"", 1);
    batch.push(Some(b"b"), b"", 2);
    batch.push(Some(b"a"), b"", 3);
    batch.push(Some(b"a"), b"set:10", 4);
    batch.push(Some(b"a"), b"", 5);
    let out = run_process(&mut counter, &batch, &state, &timers).expect("runs");
    let values: Vec<&[u8]> = out.main.iter().map(|event| event.value).collect();
    assert_eq!(values, [&b"1/1"[..], b"1/1", b"2/2", b"11/11"]);
    assert_eq!(
        (0..5)
            .map(|scope| stored_count(&state, scope))
            .collect::<Vec<_>>(),
        [Some(11), Some(1), None, None, None],
        "each key written back once, encoded, through its first scope"
    );
    // The next call decodes what this one wrote.
    let mut next = Batch::default();
    next.push(Some(b"a"), b"", 6);
    let out = run_process(&mut counter, &next, &state, &timers).expect("runs");
    assert_eq!(out.main.iter().next().expect("one").value, b"12/12");
}

#[test]
fn an_update_outside_a_cached_call_reads_and_writes_the_host() {
    let state = MemoryState::with_scopes(1);
    let timers = MemoryTimers::default();
    let counter: TestCounter = init_with(UPDATE.into(), &state).expect("inits");
    for expected in 1..=2 {
        let mut ctx = KeyedContext::new(&state, &timers, 0, Some(b"a"), 1);
        let n = counter
            .count
            .update(
                &mut ctx,
                || 0,
                |n| {
                    *n += 1;
                    *n
                },
            )
            .expect("updates");
        assert_eq!(n, expected);
        assert_eq!(stored_count(&state, 0), Some(expected), "written at once");
    }
}

#[test]
fn stored_bytes_that_do_not_decode_fail_the_update_naming_the_state() {
    let state = MemoryState::with_scopes(1);
    let timers = MemoryTimers::default();
    let mut counter: TestCounter = init_with(UPDATE.into(), &state).expect("inits");
    // Ten continuation bytes: not a postcard u64.
    state
        .entries
        .borrow_mut()
        .insert((0, 0), Entry::Value(vec![0xff; 10]));
    let mut batch = Batch::default();
    batch.push(Some(b"a"), b"", 1);
    let error = run_process(&mut counter, &batch, &state, &timers).expect_err("fails");
    let message = error.to_string();
    assert!(
        message.contains("state `count`") && message.contains("do not decode"),
        "{message}"
    );
    assert_eq!(
        state.entries.borrow().get(&(0, 0)),
        Some(&Entry::Value(vec![0xff; 10])),
        "left as it was"
    );
}
