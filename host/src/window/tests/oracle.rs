//! The reference model the operator is checked against: the window semantics written
//! the slow, obvious way. Every window keeps the list of its events; windows are found
//! by enumerating the grid around a timestamp; sessions by scanning all of a key's
//! windows; firings recompute their result from the events. No panes, accumulators,
//! batching, undo log or indexes — nothing shared with the operator but [`Window`].

use crate::window::Window;
use crate::window::spec::{AssignerSpec, TriggerSpec, WindowSpec};

use super::support::{Ev, Out, Res, Step, join};

#[derive(Debug, Clone)]
struct OWin {
    key: Option<String>,
    window: Window,
    /// (timestamp, id), in arrival order.
    events: Vec<(i64, u64)>,
    firings: u32,
    complete: bool,
    trigger: u64,
    changed: bool,
}

impl OWin {
    fn new(key: &Option<String>, window: Window) -> Self {
        OWin {
            key: key.clone(),
            window,
            events: Vec::new(),
            firings: 0,
            complete: false,
            trigger: 0,
            changed: false,
        }
    }
}

/// What the result value of a window is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    /// [`super::support::IdsAgg`]: the ids, sorted.
    Ids,
    /// [`super::support::TimestampsFn`]: `ts:id` by timestamp, ties in arrival order.
    Timestamps,
}

#[derive(Debug)]
pub struct Oracle {
    spec: WindowSpec,
    render: Render,
    watermark: i64,
    windows: Vec<OWin>,
    next_early: Option<i64>,
    pub out: Out,
}

/// Every window `[s, s + size)` with `s ≡ offset (mod period)` that contains `ts`, by
/// walking the grid.
pub fn grid(ts: i64, size: i64, period: i64, offset: i64) -> Vec<Window> {
    let mut out = Vec::new();
    let mut start = offset + period * (ts - size - offset).div_euclid(period);
    while start <= ts {
        if start <= ts && ts < start + size {
            out.push(Window::new(start, start + size));
        }
        start += period;
    }
    out
}

impl Oracle {
    pub fn new(spec: WindowSpec, render: Render) -> Self {
        Oracle {
            spec,
            render,
            watermark: i64::MIN,
            windows: Vec::new(),
            next_early: None,
            out: Out::default(),
        }
    }

    /// The model's output for a whole script.
    pub fn run(spec: WindowSpec, render: Render, steps: &[Step]) -> Out {
        let mut oracle = Oracle::new(spec, render);
        for step in steps {
            let before = oracle.out.results.len();
            match step {
                Step::Events(events) => events.iter().for_each(|e| oracle.event(e)),
                Step::Watermark(w) => oracle.advance(*w),
                Step::Clock(now) => oracle.clock(*now),
                Step::End => oracle.end(),
            }
            oracle.out.per_step.push(oracle.out.results.len() - before);
        }
        oracle.out
    }

    fn lateness(&self) -> i64 {
        self.spec.allowed_lateness_ms
    }

    fn due(&self, w: Window) -> bool {
        w.end - 1 <= self.watermark
    }

    fn expired(&self, w: Window) -> bool {
        (w.end - 1).saturating_add(self.lateness()) <= self.watermark
    }

    fn by_events(&self) -> bool {
        matches!(
            self.spec.assigner,
            AssignerSpec::Count { .. } | AssignerSpec::Global
        )
    }

    fn bounds(&self, w: &OWin) -> (i64, i64) {
        if self.by_events() {
            let min = w.events.iter().map(|e| e.0).min().unwrap_or(0);
            let max = w.events.iter().map(|e| e.0).max().unwrap_or(0);
            (min, max.saturating_add(1))
        } else {
            (w.window.start, w.window.end)
        }
    }

    fn fire(&mut self, at: usize, kind: &str) {
        let (start, end) = self.bounds(&self.windows[at]);
        let w = &mut self.windows[at];
        let value = match self.render {
            Render::Ids => {
                let mut ids: Vec<u64> = w.events.iter().map(|e| e.1).collect();
                ids.sort_unstable();
                join(ids.iter())
            }
            Render::Timestamps => {
                let mut events = w.events.clone();
                events.sort_by_key(|e| e.0); // stable: ties stay in arrival order
                join(events.iter().map(|(ts, id)| format!("{ts}:{id}")))
            }
        };
        self.out.results.push(Res {
            key: w.key.clone(),
            start,
            end,
            kind: kind.to_owned(),
            index: w.firings,
            value,
        });
        w.firings += 1;
        w.changed = false;
        if kind != "early" {
            w.complete = true;
        }
    }

    /// Counts an event for the count trigger of window `at` (not due).
    fn count_trigger(&mut self, at: usize) {
        if let TriggerSpec::Count(m) = self.spec.trigger {
            self.windows[at].trigger += 1;
            if self.windows[at].trigger >= m {
                self.windows[at].trigger = 0;
                self.fire(at, "early");
            }
        }
    }

    fn find(&self, key: &Option<String>, w: Window) -> Option<usize> {
        self.windows
            .iter()
            .position(|o| o.key == *key && o.window == w)
    }

    fn event(&mut self, e: &Ev) {
        let entry = (e.ts, e.id);
        match self.spec.assigner {
            AssignerSpec::Tumbling { size_ms, offset_ms } => {
                self.grid_event(e, grid(e.ts, size_ms, size_ms, offset_ms));
            }
            AssignerSpec::Sliding {
                size_ms,
                slide_ms,
                offset_ms,
            } => self.grid_event(e, grid(e.ts, size_ms, slide_ms, offset_ms)),
            AssignerSpec::Global => self.grid_event(e, vec![Window::GLOBAL]),
            AssignerSpec::Session { gap_ms } => {
                let proto = Window::new(e.ts, e.ts + gap_ms);
                let (meeting, others): (Vec<OWin>, Vec<OWin>) = std::mem::take(&mut self.windows)
                    .into_iter()
                    .partition(|o| o.key == e.key && o.window.intersects(&proto));
                self.windows = others;
                if meeting.is_empty() && self.expired(proto) {
                    self.out.late.push(e.id);
                    return;
                }
                let mut merged = OWin::new(&e.key, proto);
                let single = meeting.len() == 1;
                for part in meeting {
                    merged.window = merged.window.cover(&part.window);
                    merged.events.extend(part.events);
                    merged.firings = merged.firings.max(part.firings);
                    merged.trigger += part.trigger;
                    // A session that only takes the event in keeps its state.
                    if single && part.window.start <= proto.start && proto.end <= part.window.end {
                        merged.complete = part.complete;
                    }
                }
                merged.events.push(entry);
                merged.changed = true;
                self.windows.push(merged);
                let at = self.windows.len() - 1;
                if self.due(self.windows[at].window) {
                    self.fire(at, "late");
                } else {
                    self.count_trigger(at);
                }
            }
            AssignerSpec::Count { n } => {
                let at = match self
                    .windows
                    .iter()
                    .position(|o| o.key == e.key && (o.events.len() as u64) < n)
                {
                    Some(at) => at,
                    None => {
                        self.windows.push(OWin::new(&e.key, Window::GLOBAL));
                        self.windows.len() - 1
                    }
                };
                self.windows[at].events.push(entry);
                self.windows[at].changed = true;
                if self.windows[at].events.len() as u64 == n {
                    self.fire(at, "on-time");
                    self.windows.remove(at);
                } else {
                    self.count_trigger(at);
                }
            }
        }
    }

    fn grid_event(&mut self, e: &Ev, windows: Vec<Window>) {
        if windows.is_empty() {
            return;
        }
        let live: Vec<Window> = windows.into_iter().filter(|w| !self.expired(*w)).collect();
        if live.is_empty() {
            self.out.late.push(e.id);
            return;
        }
        for w in live {
            let at = match self.find(&e.key, w) {
                Some(at) => at,
                None => {
                    self.windows.push(OWin::new(&e.key, w));
                    self.windows.len() - 1
                }
            };
            self.windows[at].events.push((e.ts, e.id));
            self.windows[at].changed = true;
            if self.due(w) {
                self.fire(at, "late");
            } else {
                self.count_trigger(at);
            }
        }
    }

    /// Fires the windows at `indices` in (end, key, start) order of their bounds.
    fn fire_sorted(&mut self, mut indices: Vec<usize>, kind: &str) {
        indices.sort_by(|&a, &b| {
            let (ba, bb) = (self.bounds(&self.windows[a]), self.bounds(&self.windows[b]));
            (ba.1, &self.windows[a].key, ba.0).cmp(&(bb.1, &self.windows[b].key, bb.0))
        });
        for at in indices {
            self.fire(at, kind);
        }
    }

    fn advance(&mut self, watermark: i64) {
        if watermark <= self.watermark {
            return;
        }
        self.watermark = watermark;
        let counting = matches!(self.spec.assigner, AssignerSpec::Count { .. });
        if !counting {
            let due: Vec<usize> = (0..self.windows.len())
                .filter(|&at| !self.windows[at].complete && self.due(self.windows[at].window))
                .collect();
            self.fire_sorted(due, "on-time");
            let lateness = self.lateness();
            self.windows
                .retain(|o| (o.window.end - 1).saturating_add(lateness) > watermark);
        }
    }

    fn clock(&mut self, now: i64) {
        let Some(interval) = self.spec.early_firing_ms else {
            return;
        };
        match self.next_early {
            None => {
                self.next_early = Some(now + interval as i64);
                return;
            }
            Some(next) if now < next => return,
            Some(_) => self.next_early = Some(now + interval as i64),
        }
        let changed: Vec<usize> = (0..self.windows.len())
            .filter(|&at| self.windows[at].changed && !self.windows[at].complete)
            .collect();
        self.fire_sorted(changed, "early");
    }

    fn end(&mut self) {
        self.advance(i64::MAX);
        let left: Vec<usize> = (0..self.windows.len())
            .filter(|&at| !self.windows[at].complete && !self.windows[at].events.is_empty())
            .collect();
        self.fire_sorted(left, "on-time");
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_walks_every_window() {
        assert_eq!(grid(7, 10, 10, 0), [Window::new(0, 10)]);
        assert_eq!(grid(-1, 10, 10, 0), [Window::new(-10, 0)]);
        assert_eq!(grid(7, 10, 5, 0), [Window::new(0, 10), Window::new(5, 15)]);
        assert_eq!(grid(6, 2, 5, 0), [Window::new(5, 7)]);
        assert!(grid(8, 2, 5, 0).is_empty());
        assert_eq!(grid(2, 10, 10, 3), [Window::new(-7, 3)]);
    }
}
