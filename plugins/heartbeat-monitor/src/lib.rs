//! `heartbeat-monitor`: alerts when a device falls silent — a keyed process function
//! (world `keyed-process`) over a stream keyed by device.
//!
//! Each event is a heartbeat of its key's device (its value is not read) and passes
//! through unchanged on the main output. Per device the host keeps, in state: the
//! latest heartbeat time (`last_seen`), the event-time timer set for it (`deadline`),
//! and the number of heartbeats (`heartbeats`). Every heartbeat that moves
//! `last_seen` forward replaces the device's timer with one at `last_seen +
//! timeout_ms`. When the watermark reaches that timer, no newer heartbeat came: the
//! plugin emits an alert to the `alerts` output, keyed by the device, at the timer's
//! time:
//!
//! `{"device":"sensor-7","last_seen":1700000000000,"silent_since":1700000030000,"heartbeats":12}`
//!
//! `silent_since` is when the silence passed the timeout (`last_seen + timeout_ms`).
//! A device that stays silent is reported once; its next heartbeat starts watching it
//! again. Out-of-order heartbeats older than `last_seen` are counted but move nothing.
//!
//! Settings: `timeout_ms` (default 30000, at least 1).
//!
//! ```toml
//! [[operator]]
//! name = "silent-devices"
//! plugin = "heartbeat_monitor.wasm"
//! key_by = "device"
//! settings = { timeout_ms = 60000 }
//! outputs = { alerts = "alerts-sink" }
//! ```

use serde::{Deserialize, Serialize};
use weir_sdk::{
    Error, Event, KeyedContext, KeyedProcessor, Output, Settings, StateRegistry, TimeDomain, Timer,
    Timestamp, ValueState,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    30_000
}

/// The operator: its timeout and its state handles (the state itself is the host's).
struct HeartbeatMonitor {
    timeout_ms: i64,
    /// The latest heartbeat's time.
    last_seen: ValueState<Timestamp>,
    /// The time of the event-time timer currently set, if any.
    deadline: ValueState<Timestamp>,
    /// Heartbeats seen.
    heartbeats: ValueState<u64>,
}

/// What goes to `alerts`.
#[derive(Serialize)]
struct Alert<'a> {
    device: &'a str,
    last_seen: Timestamp,
    silent_since: Timestamp,
    heartbeats: u64,
}

impl KeyedProcessor for HeartbeatMonitor {
    const OUTPUTS: &'static [&'static str] = &["alerts"];

    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        let timeout_ms = i64::try_from(config.timeout_ms)
            .ok()
            .filter(|timeout| *timeout > 0)
            .ok_or_else(|| {
                Error::config("settings: `timeout_ms` must be between 1 and 2^63 - 1")
            })?;
        Ok(HeartbeatMonitor {
            timeout_ms,
            last_seen: states.value("last_seen").declare()?,
            deadline: states.value("deadline").declare()?,
            heartbeats: states.value("heartbeats").declare()?,
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let heartbeats = self.heartbeats.get(ctx)?.unwrap_or(0) + 1;
        self.heartbeats.set(ctx, &heartbeats)?;
        let newer = self
            .last_seen
            .get(ctx)?
            .is_none_or(|last_seen| event.timestamp > last_seen);
        if newer {
            self.last_seen.set(ctx, &event.timestamp)?;
            if let Some(previous) = self.deadline.get(ctx)? {
                ctx.delete_event_timer(previous)?;
            }
            let deadline = event.timestamp.saturating_add(self.timeout_ms);
            ctx.register_event_timer(deadline)?;
            self.deadline.set(ctx, &deadline)?;
        }
        out.emit(event);
        Ok(())
    }

    fn on_timer(
        &mut self,
        timer: &Timer<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        // Only the deadline set last counts; another (deleted, or from an older
        // version of the plugin) is stale.
        if timer.domain != TimeDomain::EventTime || self.deadline.get(ctx)? != Some(timer.at) {
            return Ok(());
        }
        self.deadline.clear(ctx)?;
        let last_seen = self
            .last_seen
            .get(ctx)?
            .unwrap_or(timer.at.saturating_sub(self.timeout_ms));
        let alert = Alert {
            device: &String::from_utf8_lossy(timer.key),
            last_seen,
            silent_since: timer.at,
            heartbeats: self.heartbeats.get(ctx)?.unwrap_or(0),
        };
        out.emit_new_json_to("alerts", Some(timer.key), &alert, timer.at)
    }
}

weir_sdk::export_keyed_processor!(HeartbeatMonitor);
