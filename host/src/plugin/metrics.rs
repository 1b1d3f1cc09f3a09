//! Host side of `weir:operator/metrics`: counters a plugin defines, kept per instance
//! and gathered by the runtime into the operator's statistics.

use std::collections::BTreeMap;

use super::bindings::weir::operator::metrics::Host;
use super::store::HostCtx;

/// Longest counter name accepted (the guest controls it).
const MAX_NAME: usize = 128;
/// Most distinct counters one instance may create; more are ignored.
const MAX_COUNTERS: usize = 256;

/// The counters of one plugin instance.
#[derive(Debug, Default, Clone)]
pub struct PluginCounters {
    counters: BTreeMap<String, u64>,
    warned: bool,
}

impl PluginCounters {
    /// Takes the counts gathered since the last call.
    pub fn drain(&mut self) -> BTreeMap<String, u64> {
        std::mem::take(&mut self.counters)
    }

    fn add(&mut self, operator: &str, name: String, delta: u64) {
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
        let room = self.counters.len() < MAX_COUNTERS || self.counters.contains_key(&name);
        if valid && room {
            let counter = self.counters.entry(name).or_default();
            *counter = counter.saturating_add(delta);
        } else if !self.warned {
            self.warned = true;
            tracing::warn!(
                target: "weir::plugin", operator,
                "ignoring counter {:?}: names are [a-z0-9_]{{1,128}}, at most {MAX_COUNTERS} per plugin",
                name.chars().take(MAX_NAME).collect::<String>()
            );
        }
    }
}

impl Host for HostCtx {
    fn counter_add(&mut self, name: String, delta: u64) {
        self.counters.add(&self.operator, name, delta);
    }
}
