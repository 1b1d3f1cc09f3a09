//! [`WindowSpec`]: what a window operator does, as the pipeline file says it — which
//! windows, when they fire, how long they wait for late data. [`WindowSpec::validate`]
//! turns it into the resolved [`WindowKind`] the operator runs, or says in words what
//! is wrong.
//!
//! ```
//! use weir_host::window::{AssignerSpec, TriggerSpec, WindowSpec};
//!
//! let spec = WindowSpec {
//!     trigger: TriggerSpec::Count(100),
//!     allowed_lateness_ms: 5_000,
//!     ..WindowSpec::new(AssignerSpec::Sliding { size_ms: 10_000, slide_ms: 1_000, offset_ms: 0 })
//! };
//! assert!(spec.validate().is_ok());
//! let bad = WindowSpec::new(AssignerSpec::Count { n: 0 });
//! assert_eq!(bad.validate().unwrap_err(), "count windows need n >= 1, got 0");
//! ```

use super::assigner::WindowAssigner;

/// The most panes one sliding window is made of (`size / gcd(size, slide)`): a bound on
/// the work of one firing, which merges the window's panes.
pub const MAX_PANES_PER_WINDOW: i64 = 4096;

/// Which windows an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignerSpec {
    /// Fixed windows of `size_ms`, starting at `offset_ms + k * size_ms`.
    Tumbling { size_ms: i64, offset_ms: i64 },
    /// Windows of `size_ms` starting every `slide_ms`, at `offset_ms + k * slide_ms`.
    Sliding {
        size_ms: i64,
        slide_ms: i64,
        offset_ms: i64,
    },
    /// Sessions closed by `gap_ms` of inactivity (per key).
    Session { gap_ms: i64 },
    /// Every `n` events of a key, in arrival order.
    Count { n: u64 },
    /// One window per key for the whole stream; fires at the end of the input (and by
    /// count trigger or early firing).
    Global,
}

/// When windows fire besides their regular firing (event time for time windows, the
/// n-th event for count windows, the end of the input for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TriggerSpec {
    /// Only the regular firing.
    #[default]
    EventTime,
    /// Also every `n` events received by a window since its last count firing, as an
    /// early (accumulating) firing.
    Count(u64),
}

/// A window operator's windows and triggers; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    pub assigner: AssignerSpec,
    pub trigger: TriggerSpec,
    /// Fire windows that received events since their last firing, every this many
    /// milliseconds of processing time, as early (accumulating) firings.
    pub early_firing_ms: Option<u64>,
    /// How long, in event time after a window's end, late events still update it (and
    /// re-fire it). Events later than that go to the `late` output.
    pub allowed_lateness_ms: i64,
}

impl WindowSpec {
    /// `assigner` with the event-time trigger, no early firing and no allowed lateness.
    pub fn new(assigner: AssignerSpec) -> Self {
        WindowSpec {
            assigner,
            trigger: TriggerSpec::EventTime,
            early_firing_ms: None,
            allowed_lateness_ms: 0,
        }
    }

    /// Checks the spec and resolves it into what the operator runs.
    ///
    /// # Errors
    /// What is wrong, in words a pipeline author understands.
    pub fn validate(&self) -> Result<WindowKind, String> {
        if self.allowed_lateness_ms < 0 {
            return Err(format!(
                "allowed lateness must be >= 0 ms, got {}",
                self.allowed_lateness_ms
            ));
        }
        if self.early_firing_ms == Some(0) {
            return Err("early firing interval must be > 0 ms".into());
        }
        if self
            .early_firing_ms
            .is_some_and(|ms| i64::try_from(ms).is_err())
        {
            return Err("early firing interval is too large".into());
        }
        if self.trigger == TriggerSpec::Count(0) {
            return Err("count trigger needs n >= 1, got 0".into());
        }
        let no_lateness = |what: &str| {
            if self.allowed_lateness_ms == 0 {
                Ok(())
            } else {
                Err(format!(
                    "allowed lateness does not apply to {what} windows, which are never late"
                ))
            }
        };
        match self.assigner {
            AssignerSpec::Tumbling { size_ms, offset_ms } => Ok(WindowKind::Time(
                WindowAssigner::tumbling(size_ms, offset_ms)?,
            )),
            AssignerSpec::Sliding {
                size_ms,
                slide_ms,
                offset_ms,
            } => {
                let assigner = WindowAssigner::sliding(size_ms, slide_ms, offset_ms)?;
                let pane = gcd(size_ms, slide_ms);
                if size_ms / pane > MAX_PANES_PER_WINDOW {
                    return Err(format!(
                        "sliding window of {size_ms} ms every {slide_ms} ms is made of {} panes \
                         of {pane} ms, more than {MAX_PANES_PER_WINDOW}: choose a slide that \
                         divides the size",
                        size_ms / pane
                    ));
                }
                Ok(WindowKind::Sliding {
                    assigner,
                    pane_ms: pane,
                })
            }
            AssignerSpec::Session { gap_ms } => {
                Ok(WindowKind::Time(WindowAssigner::session(gap_ms)?))
            }
            AssignerSpec::Count { n } => {
                if n == 0 {
                    return Err("count windows need n >= 1, got 0".into());
                }
                no_lateness("count")?;
                Ok(WindowKind::Count(n))
            }
            AssignerSpec::Global => {
                no_lateness("global")?;
                Ok(WindowKind::Time(WindowAssigner::global()))
            }
        }
    }
}

/// A validated assigner, as the operator runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// Tumbling, session or global windows: an event's state slot is its window.
    Time(WindowAssigner),
    /// Sliding windows kept as panes of `pane_ms` (the gcd of size and slide): an event
    /// updates one pane, a window is the merge of its panes when it fires.
    Sliding {
        assigner: WindowAssigner,
        pane_ms: i64,
    },
    /// Count windows of `n` events.
    Count(u64),
}

/// Greatest common divisor of two positive numbers.
fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sliding(size_ms: i64, slide_ms: i64) -> WindowSpec {
        WindowSpec::new(AssignerSpec::Sliding {
            size_ms,
            slide_ms,
            offset_ms: 0,
        })
    }

    #[test]
    fn panes_are_the_gcd() {
        assert_eq!(gcd(10_000, 1_000), 1_000);
        assert_eq!(gcd(10, 4), 2);
        assert!(matches!(
            sliding(10, 4).validate(),
            Ok(WindowKind::Sliding { pane_ms: 2, .. })
        ));
        assert!(
            sliding(10_001, 10_000)
                .validate()
                .is_err_and(|e| e.contains("10001 panes"))
        );
    }

    #[test]
    fn readable_errors() {
        let cases = [
            (
                WindowSpec::new(AssignerSpec::Tumbling {
                    size_ms: 0,
                    offset_ms: 0,
                }),
                "window size must be > 0 ms, got 0",
            ),
            (
                WindowSpec::new(AssignerSpec::Session { gap_ms: -1 }),
                "window gap must be > 0 ms, got -1",
            ),
            (
                WindowSpec {
                    allowed_lateness_ms: -5,
                    ..WindowSpec::new(AssignerSpec::Global)
                },
                "allowed lateness must be >= 0 ms, got -5",
            ),
            (
                WindowSpec {
                    allowed_lateness_ms: 5,
                    ..WindowSpec::new(AssignerSpec::Count { n: 3 })
                },
                "allowed lateness does not apply to count windows, which are never late",
            ),
            (
                WindowSpec {
                    trigger: TriggerSpec::Count(0),
                    ..WindowSpec::new(AssignerSpec::Global)
                },
                "count trigger needs n >= 1, got 0",
            ),
            (
                WindowSpec {
                    early_firing_ms: Some(0),
                    ..WindowSpec::new(AssignerSpec::Global)
                },
                "early firing interval must be > 0 ms",
            ),
        ];
        for (spec, message) in cases {
            assert_eq!(spec.validate(), Err(message.to_owned()), "{spec:?}");
        }
    }
}
