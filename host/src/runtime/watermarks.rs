//! [`InputWatermarks`]: the watermark of a task with several inputs (or of a source
//! with several splits), aware of idle inputs.
//!
//! An input is *idle* from an [`InputWatermarks::idle`] until its next batch
//! ([`InputWatermarks::active`]) or watermark. *Live* inputs are those that have not
//! ended. Laws (tested as properties below):
//! - the combined watermark is the minimum over the live, non-idle inputs' watermarks;
//!   it is not emitted until every live, non-idle input has reported one;
//! - it never goes backwards, and is emitted only when it advances: an input that
//!   comes back from idleness with a lower watermark does not lower it;
//! - an input's own watermark never goes backwards either: a smaller one than it has
//!   already sent is ignored;
//! - an input that has ended no longer holds the others back; once every input has
//!   ended the combined watermark is +∞ (`Timestamp::MAX`);
//! - when every live input is idle, [`Combined::Idle`] is emitted, once, and the
//!   combined watermark stays where it was (an idle input may come back, with events
//!   no later than its last watermark); it is emitted again only after some input has
//!   been active in between.

use weir_batch::Timestamp;

/// What a task forwards after a change of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combined {
    /// The combined watermark advanced to this time.
    Advanced(Timestamp),
    /// Every live input is idle: so is this task's output.
    Idle,
}

#[derive(Debug, Clone, Copy, Default)]
struct Input {
    watermark: Option<Timestamp>,
    idle: bool,
    ended: bool,
}

/// Per-input watermarks of one task and their combination; see the module docs.
#[derive(Debug, Clone)]
pub struct InputWatermarks {
    inputs: Vec<Input>,
    combined: Option<Timestamp>,
    /// `Idle` has been emitted and no input has been active since.
    idle: bool,
}

impl InputWatermarks {
    /// Watermarks of `inputs` inputs, none reported yet.
    pub fn new(inputs: usize) -> Self {
        InputWatermarks {
            inputs: vec![Input::default(); inputs],
            combined: None,
            idle: false,
        }
    }

    /// Records `watermark` from `input` (which makes it active); returns what to
    /// forward, if anything. An unknown or ended input is ignored.
    pub fn update(&mut self, input: usize, watermark: Timestamp) -> Option<Combined> {
        let slot = self.inputs.get_mut(input).filter(|slot| !slot.ended)?;
        slot.idle = false;
        if slot.watermark.is_none_or(|current| watermark > current) {
            slot.watermark = Some(watermark);
        }
        self.combine()
    }

    /// Records that `input` delivered events: it is active again. Returns what to
    /// forward, if anything: coming back, an input whose watermark is ahead of the
    /// others' can only advance the combined watermark when it was held by nothing
    /// (every other live input idle).
    pub fn active(&mut self, input: usize) -> Option<Combined> {
        let slot = self.inputs.get_mut(input).filter(|slot| !slot.ended)?;
        if !slot.idle {
            return None;
        }
        slot.idle = false;
        self.combine()
    }

    /// Records that `input` is idle; returns what to forward, if anything.
    pub fn idle(&mut self, input: usize) -> Option<Combined> {
        let slot = self.inputs.get_mut(input).filter(|slot| !slot.ended)?;
        slot.idle = true;
        self.combine()
    }

    /// Records the end of `input`: from now on it does not hold the watermark back.
    pub fn end(&mut self, input: usize) -> Option<Combined> {
        let slot = self.inputs.get_mut(input).filter(|slot| !slot.ended)?;
        *slot = Input {
            watermark: Some(Timestamp::MAX),
            idle: false,
            ended: true,
        };
        self.combine()
    }

    /// The combined watermark so far.
    pub fn current(&self) -> Option<Timestamp> {
        self.combined
    }

    /// Whether every live input is idle (and `Idle` has been emitted).
    pub fn is_idle(&self) -> bool {
        self.idle
    }

    fn combine(&mut self) -> Option<Combined> {
        let mut active = self
            .inputs
            .iter()
            .filter(|input| !input.ended && !input.idle)
            .peekable();
        let candidate = if active.peek().is_some() {
            self.idle = false;
            active.try_fold(Timestamp::MAX, |minimum, input| {
                input.watermark.map(|watermark| minimum.min(watermark))
            })?
        } else if self.inputs.iter().all(|input| input.ended) {
            Timestamp::MAX
        } else if self.idle {
            return None;
        } else {
            self.idle = true;
            return Some(Combined::Idle);
        };
        if self.combined.is_some_and(|combined| combined >= candidate) {
            return None;
        }
        self.combined = Some(candidate);
        Some(Combined::Advanced(candidate))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn waits_for_every_input_then_takes_the_minimum() {
        let mut watermarks = InputWatermarks::new(2);
        assert_eq!(watermarks.update(0, 10), None, "input 1 has not reported");
        assert_eq!(watermarks.update(1, 5), Some(Combined::Advanced(5)));
        assert_eq!(watermarks.update(1, 20), Some(Combined::Advanced(10)));
        assert_eq!(watermarks.update(0, 3), None, "an input cannot go back");
        assert_eq!(watermarks.end(0), Some(Combined::Advanced(20)));
        assert_eq!(watermarks.end(1), Some(Combined::Advanced(Timestamp::MAX)));
    }

    #[test]
    fn idle_inputs_do_not_hold_the_others_back() {
        let mut watermarks = InputWatermarks::new(3);
        assert_eq!(watermarks.idle(2), None, "0 and 1 have not reported");
        assert_eq!(watermarks.update(0, 10), None);
        assert_eq!(watermarks.update(1, 30), Some(Combined::Advanced(10)));
        assert_eq!(watermarks.idle(0), Some(Combined::Advanced(30)));
        assert_eq!(watermarks.idle(1), Some(Combined::Idle));
        assert_eq!(watermarks.idle(1), None, "once");
        assert!(watermarks.is_idle());
        assert_eq!(watermarks.update(0, 20), None, "back, lower: no regression");
        assert!(!watermarks.is_idle());
        assert_eq!(watermarks.update(0, 40), Some(Combined::Advanced(40)));
        assert_eq!(watermarks.active(1), None, "1 is at 30, behind");
        assert_eq!(watermarks.update(0, 50), None, "1 is active again, at 30");
        assert_eq!(watermarks.current(), Some(40));
        assert_eq!(watermarks.idle(0), None, "1 is active");
        assert_eq!(
            watermarks.end(1),
            Some(Combined::Idle),
            "the live ones are idle"
        );
        assert_eq!(watermarks.end(0), None, "2 is live and idle");
        assert_eq!(watermarks.end(2), Some(Combined::Advanced(Timestamp::MAX)));
    }

    /// One step of a property test.
    #[derive(Debug, Clone)]
    enum Step {
        Watermark(usize, i64),
        Batch(usize),
        Idle(usize),
        End(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (0usize..5, -1000i64..1000).prop_map(|(i, w)| Step::Watermark(i, w)),
            2 => (0usize..5).prop_map(Step::Batch),
            2 => (0usize..5).prop_map(Step::Idle),
            1 => (0usize..5).prop_map(Step::End),
        ]
    }

    proptest! {
        #[test]
        fn combined_watermark_is_the_monotone_minimum_over_active_inputs(
            inputs in 1usize..5,
            steps in proptest::collection::vec(step(), 0..200),
        ) {
            let mut watermarks = InputWatermarks::new(inputs);
            // The model: each input's highest watermark, idleness, end.
            let mut highest: Vec<Option<i64>> = vec![None; inputs];
            let mut idle = vec![false; inputs];
            let mut ended = vec![false; inputs];
            let mut expected: Option<i64> = None;
            let mut idle_emitted = false;
            for step in steps {
                let emitted = match step {
                    Step::Watermark(i, w) => {
                        if i < inputs && !ended[i] {
                            highest[i] = Some(highest[i].map_or(w, |h| h.max(w)));
                            idle[i] = false;
                        }
                        watermarks.update(i, w)
                    }
                    Step::Batch(i) => {
                        if i < inputs && !ended[i] {
                            idle[i] = false;
                            idle_emitted = false;
                        }
                        watermarks.active(i)
                    }
                    Step::Idle(i) => {
                        if i < inputs && !ended[i] {
                            idle[i] = true;
                        }
                        watermarks.idle(i)
                    }
                    Step::End(i) => {
                        if i < inputs && !ended[i] {
                            ended[i] = true;
                            idle[i] = false;
                            highest[i] = Some(i64::MAX);
                        }
                        watermarks.end(i)
                    }
                };
                let active: Vec<usize> = (0..inputs).filter(|&i| !ended[i] && !idle[i]).collect();
                let all_idle = active.is_empty() && ended.iter().any(|e| !e);
                let candidate = if ended.iter().all(|&e| e) {
                    Some(i64::MAX)
                } else if active.is_empty() {
                    None
                } else {
                    active.iter().map(|&i| highest[i]).collect::<Option<Vec<i64>>>()
                        .and_then(|all| all.into_iter().min())
                };
                let before = expected;
                expected = expected.max(candidate);
                prop_assert_eq!(watermarks.current(), expected, "the monotone minimum over active inputs");
                match emitted {
                    Some(Combined::Advanced(w)) => {
                        prop_assert!(before.is_none_or(|b| w > b), "only forwards");
                        prop_assert_eq!(Some(w), expected);
                    }
                    Some(Combined::Idle) => {
                        prop_assert!(all_idle && !idle_emitted, "idle once, when every live input is");
                        idle_emitted = true;
                    }
                    None => {
                        prop_assert_eq!(before, expected, "silent only when nothing advanced");
                        if !active.is_empty() {
                            idle_emitted = false;
                        }
                        prop_assert!(!all_idle || idle_emitted, "all idle was announced");
                    }
                }
                if !active.is_empty() {
                    idle_emitted = false;
                }
                prop_assert_eq!(watermarks.is_idle(), idle_emitted);
            }
        }
    }
}
