//! `[operator.window]`: an operator's windows, triggers and lateness, checked into a
//! [`WindowSpec`].
//!
//! ```toml
//! [[operator]]
//! name = "per-sensor"
//! key_by = "sensor"
//! aggregate = ["count", "mean(temp) as avg_temp", "max(temp)"]  # or plugin = "..."
//!
//! [operator.window]
//! type = "sliding"          # tumbling | sliding | session | count | global
//! size_ms = 60000           # tumbling, sliding
//! slide_ms = 10000          # sliding
//! offset_ms = 0             # tumbling, sliding (default 0)
//! # gap_ms = 30000          # session
//! # count = 100             # count: a key's window holds this many events
//! allowed_lateness_ms = 5000  # late events within it update and re-fire (default 0)
//! trigger_count = 50        # also fire (early) every 50 events of a window
//! early_firing_ms = 1000    # also fire (early) every second of processing time
//! ```

use serde::Deserialize;

use crate::window::spec::{AssignerSpec, TriggerSpec, WindowSpec};

/// The kinds of windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowType {
    Tumbling,
    Sliding,
    Session,
    Count,
    Global,
}

/// `[operator.window]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSection {
    #[serde(rename = "type")]
    pub kind: WindowType,
    pub size_ms: Option<i64>,
    pub slide_ms: Option<i64>,
    pub offset_ms: Option<i64>,
    pub gap_ms: Option<i64>,
    pub count: Option<u64>,
    #[serde(default)]
    pub allowed_lateness_ms: i64,
    pub trigger_count: Option<u64>,
    pub early_firing_ms: Option<u64>,
}

impl WindowSection {
    /// The spec, checked: each kind's keys present, no key of another kind.
    ///
    /// # Errors
    /// The key at fault and what is wrong with it.
    pub fn to_spec(&self) -> Result<WindowSpec, (&'static str, String)> {
        let kind = self.kind;
        let name = format!("{kind:?}").to_lowercase();
        let needs = |key: &'static str, value: Option<i64>| {
            value.ok_or((
                "type",
                format!("{name} windows need `{key}` in `[operator.window]`"),
            ))
        };
        let allowed: &[&str] = match kind {
            WindowType::Tumbling => &["size_ms", "offset_ms"],
            WindowType::Sliding => &["size_ms", "slide_ms", "offset_ms"],
            WindowType::Session => &["gap_ms"],
            WindowType::Count => &["count"],
            WindowType::Global => &[],
        };
        let given = [
            ("size_ms", self.size_ms.is_some()),
            ("slide_ms", self.slide_ms.is_some()),
            ("offset_ms", self.offset_ms.is_some()),
            ("gap_ms", self.gap_ms.is_some()),
            ("count", self.count.is_some()),
        ];
        for (key, present) in given {
            if present && !allowed.contains(&key) {
                return Err((
                    key,
                    format!("`{key}` does not apply to {name} windows (they take {allowed:?})"),
                ));
            }
        }
        let assigner = match kind {
            WindowType::Tumbling => AssignerSpec::Tumbling {
                size_ms: needs("size_ms", self.size_ms)?,
                offset_ms: self.offset_ms.unwrap_or(0),
            },
            WindowType::Sliding => AssignerSpec::Sliding {
                size_ms: needs("size_ms", self.size_ms)?,
                slide_ms: needs("slide_ms", self.slide_ms)?,
                offset_ms: self.offset_ms.unwrap_or(0),
            },
            WindowType::Session => AssignerSpec::Session {
                gap_ms: needs("gap_ms", self.gap_ms)?,
            },
            WindowType::Count => AssignerSpec::Count {
                n: self.count.ok_or((
                    "type",
                    "count windows need `count` in `[operator.window]`".to_owned(),
                ))?,
            },
            WindowType::Global => AssignerSpec::Global,
        };
        let spec = WindowSpec {
            assigner,
            trigger: self
                .trigger_count
                .map_or(TriggerSpec::EventTime, TriggerSpec::Count),
            early_firing_ms: self.early_firing_ms,
            allowed_lateness_ms: self.allowed_lateness_ms,
        };
        spec.validate().map_err(|why| ("type", why))?;
        Ok(spec)
    }
}
