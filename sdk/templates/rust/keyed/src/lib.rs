//! `{{name}}`: a keyed process function, a Weir plugin (world `keyed-process`).
//!
//! Counts the events of each key and emits `{"key": K, "count": N}` for each event.
//! When a key sends nothing for `idle_ms` of event time (a setting, default 60000),
//! it emits `{"key": K, "count": N, "idle_since": T}` to the `idle` output.
//!
//! The count and the pending timer live in the host's keyed state, not in this
//! struct: they are checkpointed, survive restarts and new versions of the plugin.
//!
//! Build with `weir build` (or `sh build.sh`), test with `weir test`.

use serde::Deserialize;
use serde_json::json;
use weir_sdk::{
    Error, Event, KeyedContext, KeyedProcessor, Output, Settings, StateRegistry, Timer, ValueState,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_idle_ms")]
    idle_ms: i64,
}

fn default_idle_ms() -> i64 {
    60_000
}

struct CountPerKey {
    idle_ms: i64,
    /// Events seen, per key.
    count: ValueState<u64>,
    /// When the key's idle timer is due, per key.
    idle_at: ValueState<i64>,
}

fn key_text(ctx: &KeyedContext<'_>) -> String {
    String::from_utf8_lossy(ctx.key().unwrap_or_default()).into_owned()
}

impl KeyedProcessor for CountPerKey {
    const OUTPUTS: &'static [&'static str] = &["idle"];

    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        if config.idle_ms < 1 {
            return Err(Error::config("`idle_ms` must be at least 1"));
        }
        Ok(CountPerKey {
            idle_ms: config.idle_ms,
            count: states.value("count").declare()?,
            idle_at: states.value("idle_at").declare()?,
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let count = self.count.get(ctx)?.unwrap_or(0) + 1;
        self.count.set(ctx, &count)?;
        let idle_at = event.timestamp + self.idle_ms;
        match self.idle_at.get(ctx)? {
            Some(pending) if pending >= idle_at => {}
            pending => {
                if let Some(pending) = pending {
                    ctx.delete_event_timer(pending)?;
                }
                ctx.register_event_timer(idle_at)?;
                self.idle_at.set(ctx, &idle_at)?;
            }
        }
        let value = json!({ "key": key_text(ctx), "count": count });
        out.emit_new_json(ctx.key(), &value, event.timestamp)
    }

    fn on_timer(
        &mut self,
        timer: &Timer<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        self.idle_at.clear(ctx)?;
        let count = self.count.get(ctx)?.unwrap_or(0);
        let value = json!({ "key": key_text(ctx), "count": count, "idle_since": timer.at });
        out.emit_new_json_to("idle", Some(timer.key), &value, timer.at)
    }
}

weir_sdk::export_keyed_processor!(CountPerKey);
