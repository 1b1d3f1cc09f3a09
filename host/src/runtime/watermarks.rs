//! [`InputWatermarks`]: the watermark of a task with several inputs.
//!
//! Laws (tested as properties below):
//! - the combined watermark is the minimum over the inputs' watermarks, and is not
//!   emitted until every input has reported one (or ended);
//! - it never goes backwards, and is emitted only when it advances;
//! - an input's own watermark never goes backwards either: a smaller one than it has
//!   already sent is ignored;
//! - an input that has ended no longer holds the others back (it counts as +∞).
//!
//! Idle inputs (a silent partition that stops holding the watermark back after a
//! timeout) come with event time proper; the sources mark them.

use weir_batch::Timestamp;

/// Per-input watermarks of one task and their combination.
#[derive(Debug, Clone)]
pub struct InputWatermarks {
    per_input: Vec<Option<Timestamp>>,
    combined: Option<Timestamp>,
}

impl InputWatermarks {
    pub fn new(inputs: usize) -> Self {
        InputWatermarks {
            per_input: vec![None; inputs],
            combined: None,
        }
    }

    /// Records `watermark` from `input`; returns the combined watermark if it advanced.
    /// An unknown input is ignored.
    pub fn update(&mut self, input: usize, watermark: Timestamp) -> Option<Timestamp> {
        let slot = self.per_input.get_mut(input)?;
        if slot.is_some_and(|current| current >= watermark) {
            return None;
        }
        *slot = Some(watermark);
        let minimum = self
            .per_input
            .iter()
            .try_fold(Timestamp::MAX, |minimum, watermark| {
                watermark.map(|watermark| minimum.min(watermark))
            })?;
        if self.combined.is_some_and(|combined| combined >= minimum) {
            return None;
        }
        self.combined = Some(minimum);
        Some(minimum)
    }

    /// Records the end of `input`: from now on it does not hold the watermark back.
    pub fn end(&mut self, input: usize) -> Option<Timestamp> {
        self.update(input, Timestamp::MAX)
    }

    /// The combined watermark so far.
    pub fn current(&self) -> Option<Timestamp> {
        self.combined
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
        assert_eq!(watermarks.update(1, 5), Some(5));
        assert_eq!(watermarks.update(1, 20), Some(10));
        assert_eq!(watermarks.update(0, 3), None, "an input cannot go back");
        assert_eq!(watermarks.end(0), Some(20));
        assert_eq!(watermarks.end(1), Some(Timestamp::MAX));
    }

    proptest! {
        #[test]
        fn combined_watermark_is_the_monotone_minimum(
            inputs in 1usize..5,
            updates in proptest::collection::vec((0usize..5, -1000i64..1000), 0..200),
        ) {
            let mut watermarks = InputWatermarks::new(inputs);
            let mut highest: Vec<Option<i64>> = vec![None; inputs];
            let mut last_emitted: Option<i64> = None;
            for (input, watermark) in updates {
                let emitted = watermarks.update(input, watermark);
                if input < inputs {
                    highest[input] = Some(highest[input].map_or(watermark, |h: i64| h.max(watermark)));
                }
                let expected = highest.iter().copied().collect::<Option<Vec<i64>>>().map(|all| {
                    all.into_iter().min().unwrap_or(i64::MAX)
                });
                prop_assert_eq!(watermarks.current(), expected, "minimum over inputs, once all reported");
                if let Some(emitted) = emitted {
                    prop_assert!(last_emitted.is_none_or(|last| emitted > last), "never backwards, only advances");
                    last_emitted = Some(emitted);
                } else {
                    prop_assert_eq!(watermarks.current(), last_emitted, "silent only when nothing advanced");
                }
            }
        }
    }
}
