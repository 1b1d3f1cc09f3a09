//! The timer part of the model tests: timers through [`SubtaskState`] against a set,
//! with commits, rollbacks and restores, on the backend under test.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use super::MakeBackend;
use crate::state::{SubtaskState, TimeDomain, Timer, TimerService};
use weir_batch::Timestamp;

#[derive(Debug, Clone)]
enum Op {
    Register(TimeDomain, Timer),
    Delete(TimeDomain, Timer),
    PopDue(TimeDomain, Timestamp),
    Commit,
    Rollback,
}

fn domain() -> impl Strategy<Value = TimeDomain> {
    prop_oneof![
        Just(TimeDomain::EventTime),
        Just(TimeDomain::ProcessingTime)
    ]
}

fn timer() -> impl Strategy<Value = Timer> {
    let bytes = || proptest::collection::vec(prop_oneof![Just(0u8), Just(b'a')], 0..2);
    (-3i64..6, 0u16..3, bytes(), bytes()).prop_map(|(at, key_group, key, namespace)| Timer {
        at,
        key_group,
        key,
        namespace,
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (domain(), timer()).prop_map(|(d, t)| Op::Register(d, t)),
        2 => (domain(), timer()).prop_map(|(d, t)| Op::Delete(d, t)),
        2 => (domain(), -4i64..7).prop_map(|(d, at)| Op::PopDue(d, at)),
        1 => Just(Op::Commit),
        1 => Just(Op::Rollback),
    ]
}

fn index_of(timers: &TimerService) -> BTreeSet<(TimeDomain, Timer)> {
    [TimeDomain::EventTime, TimeDomain::ProcessingTime]
        .into_iter()
        .flat_map(|d| timers.iter(d).map(move |t| (d, t.clone())))
        .collect()
}

/// Timers through [`SubtaskState`] on a backend from `make` behave like a set with
/// transactions, and a restore rebuilds the committed index, in `cases` random runs.
pub(crate) fn timers_behave_like_a_set_with_transactions(make: MakeBackend<'_>, cases: u32) {
    let strategy = proptest::collection::vec(op(), 0..40);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let result = runner.run(&strategy, |ops| {
        let mut state = SubtaskState::restore(make(), 0..3).unwrap();
        let mut committed = BTreeSet::new();
        let mut now = BTreeSet::new();
        for op in ops {
            let (timers, backend) = (&mut state.timers, &mut state.backend);
            match op {
                Op::Register(d, t) => {
                    let new = timers
                        .register(backend, d, t.at, t.key_group, &t.key, &t.namespace)
                        .unwrap();
                    prop_assert_eq!(new, now.insert((d, t)));
                }
                Op::Delete(d, t) => {
                    let existed = timers
                        .delete(backend, d, t.at, t.key_group, &t.key, &t.namespace)
                        .unwrap();
                    prop_assert_eq!(existed, now.remove(&(d, t)));
                }
                Op::PopDue(d, up_to) => {
                    let mut due = Vec::new();
                    timers.pop_due(backend, d, up_to, &mut due).unwrap();
                    let expected: Vec<Timer> = now
                        .iter()
                        .filter(|(domain, t)| *domain == d && t.at <= up_to)
                        .map(|(_, t)| t.clone())
                        .collect();
                    now.retain(|(domain, t)| *domain != d || t.at > up_to);
                    prop_assert_eq!(due, expected);
                }
                Op::Commit => {
                    state.commit().unwrap();
                    committed = now.clone();
                    let restored = TimerService::restore(state.base(), 0..3).unwrap();
                    prop_assert_eq!(index_of(&restored), committed.clone(), "restore = index");
                }
                Op::Rollback => {
                    state.rollback();
                    now = committed.clone();
                }
            }
            prop_assert_eq!(index_of(&state.timers), now.clone());
            for d in [TimeDomain::EventTime, TimeDomain::ProcessingTime] {
                let next = now
                    .iter()
                    .find(|(domain, _)| *domain == d)
                    .map(|(_, t)| t.at);
                prop_assert_eq!(state.timers.next_due(d), next);
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
