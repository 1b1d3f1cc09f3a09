//! [`Window`], [`WindowAssigner`] and [`merge_sessions`]; see [`crate::window`] for the
//! laws they keep and the valid timestamp range.

/// The most windows a sliding assigner may give one event (`ceil(size / slide)`):
/// a bound on the work and state one event can cause.
pub const MAX_SLIDING_WINDOWS: i64 = 1 << 16;

/// A half-open interval `[start, end)` of event time, in milliseconds.
///
/// Windows order by `start`, then by `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// First timestamp in the window (inclusive).
    pub start: i64,
    /// First timestamp after the window (exclusive).
    pub end: i64,
}

impl Window {
    /// The window `[start, end)`.
    #[must_use]
    pub const fn new(start: i64, end: i64) -> Self {
        Self { start, end }
    }

    /// The window that holds every timestamp below `i64::MAX`: `[i64::MIN, i64::MAX)`.
    ///
    /// `i64::MAX` itself is outside: it is the "end of time" watermark, which fires
    /// the global window (its [`max_timestamp`](Self::max_timestamp) is `i64::MAX - 1`).
    pub const GLOBAL: Self = Self::new(i64::MIN, i64::MAX);

    /// The last timestamp in the window, `end - 1`: the window may fire once the
    /// watermark reaches it.
    ///
    /// ```
    /// # use weir_host::window::Window;
    /// assert_eq!(Window::new(0, 10).max_timestamp(), 9);
    /// ```
    #[must_use]
    pub const fn max_timestamp(&self) -> i64 {
        self.end.saturating_sub(1)
    }

    /// Whether `start <= ts < end`.
    ///
    /// ```
    /// # use weir_host::window::Window;
    /// let w = Window::new(0, 10);
    /// assert!(w.contains(0) && w.contains(9) && !w.contains(10) && !w.contains(-1));
    /// ```
    #[must_use]
    pub const fn contains(&self, ts: i64) -> bool {
        self.start <= ts && ts < self.end
    }

    /// Whether the two windows overlap or touch (`[0, 5)` and `[5, 10)` do), as
    /// Flink's `TimeWindow.intersects`: the condition for session windows to merge.
    #[must_use]
    pub const fn intersects(&self, other: &Window) -> bool {
        self.start <= other.end && self.end >= other.start
    }

    /// The smallest window that covers both.
    #[must_use]
    pub fn cover(&self, other: &Window) -> Window {
        Window::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Maps an event's timestamp to the time windows that contain it.
///
/// Build it with the constructors, which validate the parameters and reduce the
/// offset modulo the period. A value built directly from the variants skips that
/// validation: a non-positive size, slide or gap then assigns no windows.
///
/// Count windows (every `n` events) are not time windows: they depend on arrival
/// order, not on timestamps, and belong with triggers rather than here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowAssigner {
    /// Fixed windows of `size` ms that do not overlap, starting at
    /// `offset + k * size` for every integer `k`.
    Tumbling {
        /// Window length in ms (> 0).
        size: i64,
        /// Start alignment, in `0..size`.
        offset: i64,
    },
    /// Windows of `size` ms starting every `slide` ms, at `offset + k * slide`.
    /// When `size < slide` the windows leave gaps and events in a gap get none.
    Sliding {
        /// Window length in ms (> 0).
        size: i64,
        /// Distance between consecutive window starts in ms (> 0).
        slide: i64,
        /// Start alignment, in `0..slide`.
        offset: i64,
    },
    /// Activity sessions: each event gets the proto-window `[ts, ts + gap)`, and
    /// proto-windows that intersect are merged by [`merge_sessions`].
    Session {
        /// Inactivity gap in ms (> 0) that closes a session.
        gap: i64,
    },
    /// A single window, [`Window::GLOBAL`], for all events.
    Global,
}

fn positive(name: &str, value: i64) -> Result<i64, String> {
    if value > 0 {
        Ok(value)
    } else {
        Err(format!("window {name} must be > 0 ms, got {value}"))
    }
}

/// Saturates an `i128` bound to the `i64` range.
fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

impl WindowAssigner {
    /// Tumbling windows of `size` ms aligned to `offset` (any value; it is taken
    /// modulo `size`, so `tumbling(10, 13) == tumbling(10, 3)`).
    ///
    /// # Errors
    ///
    /// If `size <= 0`.
    pub fn tumbling(size: i64, offset: i64) -> Result<Self, String> {
        let size = positive("size", size)?;
        Ok(Self::Tumbling {
            size,
            offset: offset.rem_euclid(size),
        })
    }

    /// Sliding windows of `size` ms every `slide` ms aligned to `offset` (taken modulo
    /// `slide`). `size < slide` is allowed: the windows then leave gaps.
    ///
    /// # Errors
    ///
    /// If `size <= 0`, `slide <= 0`, or one event would get more than
    /// [`MAX_SLIDING_WINDOWS`] windows.
    pub fn sliding(size: i64, slide: i64, offset: i64) -> Result<Self, String> {
        let size = positive("size", size)?;
        let slide = positive("slide", slide)?;
        let per_event = size.div_euclid(slide) + i64::from(size.rem_euclid(slide) != 0);
        if per_event > MAX_SLIDING_WINDOWS {
            return Err(format!(
                "sliding window of size {size} ms every {slide} ms gives {per_event} windows \
                 per event, more than {MAX_SLIDING_WINDOWS}"
            ));
        }
        Ok(Self::Sliding {
            size,
            slide,
            offset: offset.rem_euclid(slide),
        })
    }

    /// Session windows closed by `gap` ms of inactivity.
    ///
    /// # Errors
    ///
    /// If `gap <= 0`.
    pub fn session(gap: i64) -> Result<Self, String> {
        Ok(Self::Session {
            gap: positive("gap", gap)?,
        })
    }

    /// The global window.
    #[must_use]
    pub const fn global() -> Self {
        Self::Global
    }

    /// Whether assigned windows must go through [`merge_sessions`] (sessions only).
    #[must_use]
    pub const fn is_merging(&self) -> bool {
        matches!(self, Self::Session { .. })
    }

    /// Appends to `out` (without clearing it) the windows an event at `timestamp`
    /// belongs to, in ascending `start` order.
    ///
    /// - Tumbling: exactly one, starting at
    ///   `ts - (ts - offset).rem_euclid(size)` (Flink's `getWindowStartWithOffset`).
    /// - Sliding: the windows starting at `last - j * slide` for `j = 0, 1, ...` while
    ///   `j * slide < size - r`, where `r = (ts - offset).rem_euclid(slide)` and
    ///   `last = ts - r`: that is `ceil((size - r) / slide)` windows if `r < size`,
    ///   else none. It equals `size / slide` when `slide` divides `size`.
    /// - Session: the proto-window `[ts, ts + gap)`.
    /// - Global: [`Window::GLOBAL`].
    ///
    /// See the module docs for the valid timestamp range.
    pub fn assign(&self, timestamp: i64, out: &mut Vec<Window>) {
        let ts = i128::from(timestamp);
        match *self {
            Self::Tumbling { size, offset } => {
                if size <= 0 {
                    return;
                }
                let size = i128::from(size);
                let start = ts - (ts - i128::from(offset)).rem_euclid(size);
                out.push(Window::new(clamp(start), clamp(start + size)));
            }
            Self::Sliding {
                size,
                slide,
                offset,
            } => {
                if size <= 0 || slide <= 0 {
                    return;
                }
                let (size, slide) = (i128::from(size), i128::from(slide));
                let r = (ts - i128::from(offset)).rem_euclid(slide);
                if r >= size {
                    return;
                }
                let count = (size - r + slide - 1) / slide;
                let first = ts - r - (count - 1) * slide;
                out.extend((0..count).map(|j| {
                    let start = first + j * slide;
                    Window::new(clamp(start), clamp(start + size))
                }));
            }
            Self::Session { gap } => {
                if gap > 0 {
                    out.push(Window::new(timestamp, timestamp.saturating_add(gap)));
                }
            }
            Self::Global => out.push(Window::GLOBAL),
        }
    }
}

/// Merges session windows in place: afterwards `windows` is sorted by `start`, and no
/// two of its windows [intersect](Window::intersects).
///
/// Windows that overlap or touch (`a.end == b.start`) merge into their
/// [cover](Window::cover), as in Flink (`TimeWindow.intersects` uses `<=`). For
/// proto-windows `[ts, ts + gap)`, two events therefore share a session when they
/// are at most `gap` apart. The result does not depend on the input order.
///
/// ```
/// # use weir_host::window::{Window, merge_sessions};
/// let mut ws = vec![
///     Window::new(5, 10),
///     Window::new(20, 25),
///     Window::new(0, 5),
/// ];
/// merge_sessions(&mut ws);
/// assert_eq!(ws, [Window::new(0, 10), Window::new(20, 25)]);
/// ```
pub fn merge_sessions(windows: &mut Vec<Window>) {
    windows.sort_unstable();
    let mut merged: Vec<Window> = Vec::with_capacity(windows.len());
    for w in windows.drain(..) {
        match merged.last_mut() {
            Some(last) if last.intersects(&w) => *last = last.cover(&w),
            _ => merged.push(w),
        }
    }
    *windows = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Timestamps kept within ±10^15 ms, the documented always-valid range.
    const TS: i64 = 1_000_000_000_000_000;

    fn assign(a: &WindowAssigner, ts: i64) -> Vec<Window> {
        let mut out = Vec::new();
        a.assign(ts, &mut out);
        out
    }

    /// Brute force: enumerate grid starts `offset + k * period` around `ts`, keep the
    /// windows that contain it.
    fn grid_oracle(size: i64, period: i64, offset: i64, ts: i64) -> Vec<Window> {
        let lo = (ts - size - offset).div_euclid(period) - 1;
        let hi = (ts - offset).div_euclid(period) + 1;
        (lo..=hi)
            .map(|k| offset + k * period)
            .map(|start| Window::new(start, start + size))
            .filter(|w| w.contains(ts))
            .collect()
    }

    /// Sorts timestamps and splits where consecutive ones are more than `gap` apart.
    fn session_oracle(mut ts: Vec<i64>, gap: i64) -> Vec<Window> {
        ts.sort_unstable();
        let mut out: Vec<Window> = Vec::new();
        for (i, &t) in ts.iter().enumerate() {
            match out.last_mut() {
                Some(last) if t - ts[i - 1] <= gap => last.end = t + gap,
                _ => out.push(Window::new(t, t + gap)),
            }
        }
        out
    }

    fn check_grid(a: &WindowAssigner, size: i64, period: i64, offset: i64, ts: i64) {
        let got = assign(a, ts);
        assert_eq!(got, grid_oracle(size, period, offset, ts), "{a:?} at {ts}");
        let norm = offset.rem_euclid(period);
        for w in &got {
            assert!(w.contains(ts));
            assert_eq!(w.start.rem_euclid(period), norm);
            assert_eq!(w.end - w.start, size);
        }
        assert!(got.windows(2).all(|p| p[0].start < p[1].start));
        let r = (ts - offset).rem_euclid(period);
        let expected = (size - r + period - 1).max(0) / period;
        assert_eq!(got.len() as i64, expected);
        let (floor, ceil) = (size / period, (size + period - 1) / period);
        assert!(floor <= expected && expected <= ceil);
    }

    #[test]
    fn tumbling_and_sliding_examples() -> Result<(), String> {
        let a = WindowAssigner::tumbling(10, 0)?;
        assert_eq!(assign(&a, 0), [Window::new(0, 10)]);
        assert_eq!(assign(&a, 9), [Window::new(0, 10)]);
        assert_eq!(assign(&a, -1), [Window::new(-10, 0)]);
        assert_eq!(assign(&a, -10), [Window::new(-10, 0)]);
        let shifted = WindowAssigner::tumbling(10, 13)?;
        assert_eq!(shifted, WindowAssigner::tumbling(10, 3)?);
        assert_eq!(assign(&shifted, 2), [Window::new(-7, 3)]);
        let a = WindowAssigner::sliding(10, 3, 0)?;
        // r = 0: ceil(10 / 3) = 4 windows; r = 1: 3 windows.
        assert_eq!(assign(&a, 9).len(), 4);
        assert_eq!(assign(&a, 10).len(), 3);
        let gaps = WindowAssigner::sliding(2, 5, 0)?;
        assert_eq!(assign(&gaps, 6), [Window::new(5, 7)]);
        assert!(assign(&gaps, 7).is_empty());
        Ok(())
    }

    #[test]
    fn constructors_validate() {
        assert!(WindowAssigner::tumbling(0, 0).is_err());
        assert!(WindowAssigner::sliding(10, 0, 0).is_err());
        assert!(WindowAssigner::sliding(-1, 5, 0).is_err());
        assert!(WindowAssigner::sliding(MAX_SLIDING_WINDOWS + 1, 1, 0).is_err());
        assert!(WindowAssigner::session(0).is_err());
        assert!(WindowAssigner::session(-5).is_err());
    }

    #[test]
    fn global_and_session_and_extremes() -> Result<(), String> {
        assert_eq!(assign(&WindowAssigner::global(), -7), [Window::GLOBAL]);
        assert_eq!(Window::GLOBAL.max_timestamp(), i64::MAX - 1);
        let s = WindowAssigner::session(5)?;
        assert!(s.is_merging());
        assert_eq!(assign(&s, -2), [Window::new(-2, 3)]);
        assert_eq!(assign(&s, i64::MAX)[0].end, i64::MAX);
        let big = WindowAssigner::sliding(i64::MAX, i64::MAX / 2, 7)?;
        for ts in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            for a in [WindowAssigner::tumbling(i64::MAX, 3)?, big, s] {
                assert!(!assign(&a, ts).is_empty(), "{a:?} at {ts}");
            }
        }
        let broken = WindowAssigner::Tumbling { size: 0, offset: 0 };
        assert!(assign(&broken, 1).is_empty());
        Ok(())
    }

    #[test]
    fn touching_sessions_merge() {
        let mut ws = vec![Window::new(5, 10), Window::new(0, 5)];
        merge_sessions(&mut ws);
        assert_eq!(ws, [Window::new(0, 10)]);
        let mut none: Vec<Window> = Vec::new();
        merge_sessions(&mut none);
        assert!(none.is_empty());
    }

    proptest! {
        #[test]
        fn tumbling_laws(size in 1..1_000_000i64, offset in -1_000_000..1_000_000i64,
                         ts in -TS..=TS) {
            let a = WindowAssigner::tumbling(size, offset).map_err(TestCaseError::fail)?;
            check_grid(&a, size, size, offset, ts); // one window: r < size always
        }

        #[test]
        fn sliding_laws((slide, size) in (1..10_000i64).prop_flat_map(|s| (Just(s), 1..=64 * s)),
                        offset in -1_000_000..1_000_000i64, ts in -TS..=TS) {
            let a = WindowAssigner::sliding(size, slide, offset).map_err(TestCaseError::fail)?;
            check_grid(&a, size, slide, offset, ts);
            if size % slide == 0 {
                prop_assert_eq!(assign(&a, ts).len() as i64, size / slide);
            }
        }

        #[test]
        fn sessions_merge_independent_of_order(
            (ts, shuffled) in prop::collection::vec(-5_000..5_000i64, 0..40)
                .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
            base in -TS..=TS, gap in 1..1_000i64,
        ) {
            let a = WindowAssigner::session(gap).map_err(TestCaseError::fail)?;
            let ts: Vec<i64> = ts.into_iter().map(|t| base + t).collect();
            let shuffled: Vec<i64> = shuffled.into_iter().map(|t| base + t).collect();
            let merge = |order: &[i64]| {
                let mut ws = Vec::new();
                for &t in order {
                    a.assign(t, &mut ws);
                }
                merge_sessions(&mut ws);
                ws
            };
            let merged = merge(&ts);
            prop_assert_eq!(&merged, &merge(&shuffled));
            prop_assert!(merged.windows(2).all(|p| p[0].end < p[1].start));
            prop_assert_eq!(merged, session_oracle(ts, gap));
        }
    }
}
