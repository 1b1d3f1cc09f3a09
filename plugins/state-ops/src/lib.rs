//! `state-ops`: a test fixture that runs one state or timer command per event — a
//! keyed process function (world `keyed-process`) for the host's integration tests.
//!
//! States (declared in `init`, all scoped to the event's key):
//! - `v`: value state of JSON values (typed, postcard-encoded text);
//! - `v_ttl`: the same with a time to live of `ttl_ms` (setting, default 1000);
//! - `l`: list state of JSON values (typed);
//! - `m`: map state from string keys to JSON values, raw bytes (keys as UTF-8 bytes,
//!   so entries come back in the host's order, by key bytes).
//!
//! Each event's value is a command; the result goes to the main output as a JSON object
//! with the event's key, timestamp and headers: `{"op":..,"key":..}` plus:
//!
//! | command | result fields |
//! |---|---|
//! | `{"op":"value_set","state":"v","value":X}` (`state`: `v` or `v_ttl`, default `v`) | |
//! | `{"op":"value_get","state":"v"}` | `"value"`: X or `null` |
//! | `{"op":"list_add","value":X}` | |
//! | `{"op":"list_get"}` | `"values"`: `[X, ...]` |
//! | `{"op":"list_replace","values":[X, ...]}` | |
//! | `{"op":"map_put","key":"k","value":X}` | |
//! | `{"op":"map_get","key":"k"}` | `"value"`: X or `null` |
//! | `{"op":"map_remove","key":"k"}` | |
//! | `{"op":"map_entries"}` | `"entries"`: `[["k", X], ...]` |
//! | `{"op":"clear","state":S}` (`v`, `v_ttl`, `l` or `m`) | |
//! | `{"op":"timer_event","at":T}` / `{"op":"timer_processing","at":T}` | |
//! | `{"op":"timer_delete","at":T,"domain":"event-time"}` (or `processing-time`; default event time) | |
//! | `{"op":"watermark"}` | `"watermark"`: T or `null` |
//! | `{"op":"processing_time"}` | `"processing_time"`: T |
//! | `{"op":"reject","reason":"..."}` | none: the event goes to the dead-letter output |
//! | `{"op":"fail","message":"..."}` | none: the call fails (invalid input) |
//!
//! The result's `key` is the event's key as text (`null` without one). A value that is
//! not a command fails the call as invalid input. A timer that fires emits
//! `{"timer":T,"domain":"event-time","key":"k"}` on the main output, keyed by its key at
//! time `T`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use weir_sdk::{
    Error, Event, EventExt, KeyedContext, KeyedProcessor, ListState, MapState, Output, Raw,
    Settings, StateRegistry, Timer, Timestamp, ValueState,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_ttl_ms")]
    ttl_ms: u64,
}

fn default_ttl_ms() -> u64 {
    1_000
}

/// One command (see the crate docs).
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    ValueSet {
        #[serde(default = "value_state")]
        state: String,
        value: Value,
    },
    ValueGet {
        #[serde(default = "value_state")]
        state: String,
    },
    ListAdd {
        value: Value,
    },
    ListGet,
    ListReplace {
        values: Vec<Value>,
    },
    MapPut {
        key: String,
        value: Value,
    },
    MapGet {
        key: String,
    },
    MapRemove {
        key: String,
    },
    MapEntries,
    Clear {
        state: String,
    },
    TimerEvent {
        at: Timestamp,
    },
    TimerProcessing {
        at: Timestamp,
    },
    TimerDelete {
        at: Timestamp,
        #[serde(default)]
        domain: Domain,
    },
    Watermark,
    ProcessingTime,
    Reject {
        #[serde(default)]
        reason: String,
    },
    Fail {
        #[serde(default)]
        message: String,
    },
}

fn value_state() -> String {
    "v".to_owned()
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum Domain {
    #[default]
    EventTime,
    ProcessingTime,
}

/// A JSON value as stored in the typed states: its text (postcard cannot encode
/// `serde_json::Value` itself, which needs a self-describing format).
type Json = String;

struct StateOps {
    v: ValueState<Json>,
    v_ttl: ValueState<Json>,
    l: ListState<Json>,
    m: MapState<Vec<u8>, Vec<u8>, Raw>,
}

/// What a timer emits.
#[derive(Serialize)]
struct Fired<'a> {
    timer: Timestamp,
    domain: &'static str,
    key: &'a str,
}

impl StateOps {
    fn value_state(&self, name: &str) -> Result<&ValueState<Json>, Error> {
        match name {
            "v" => Ok(&self.v),
            "v_ttl" => Ok(&self.v_ttl),
            other => Err(Error::invalid_input(format!("no value state `{other}`"))),
        }
    }

    /// Runs `command`; returns the result's extra fields, or `None` to emit nothing.
    fn run(
        &self,
        command: Command,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<Option<Map<String, Value>>, Error> {
        let mut result = Map::new();
        match command {
            Command::ValueSet { state, value } => {
                self.value_state(&state)?.set(ctx, &value.to_string())?;
            }
            Command::ValueGet { state } => {
                let value = self.value_state(&state)?.get(ctx)?;
                result.insert("value".into(), parse_stored(value.as_deref())?);
            }
            Command::ListAdd { value } => self.l.add(ctx, &value.to_string())?,
            Command::ListGet => {
                let values = self.l.get(ctx)?;
                let values = values
                    .iter()
                    .map(|text| parse_stored(Some(text)))
                    .collect::<Result<Vec<_>, _>>()?;
                result.insert("values".into(), Value::Array(values));
            }
            Command::ListReplace { values } => {
                let texts: Vec<Json> = values.iter().map(Value::to_string).collect();
                self.l.replace(ctx, &texts)?;
            }
            Command::MapPut { key, value } => {
                self.m
                    .put_bytes(ctx, key.as_bytes(), value.to_string().as_bytes())?;
            }
            Command::MapGet { key } => {
                let value = self.m.get_bytes(ctx, key.as_bytes())?;
                let text = value.as_deref().map(String::from_utf8_lossy);
                result.insert("value".into(), parse_stored(text.as_deref())?);
            }
            Command::MapRemove { key } => self.m.remove_bytes(ctx, key.as_bytes())?,
            Command::MapEntries => {
                let entries = self
                    .m
                    .entries_bytes(ctx)?
                    .into_iter()
                    .map(|(key, value)| {
                        let value = parse_stored(Some(&String::from_utf8_lossy(&value)))?;
                        Ok(Value::Array(vec![
                            Value::String(String::from_utf8_lossy(&key).into_owned()),
                            value,
                        ]))
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                result.insert("entries".into(), Value::Array(entries));
            }
            Command::Clear { state } => match state.as_str() {
                "l" => self.l.clear(ctx)?,
                "m" => self.m.clear(ctx)?,
                other => self.value_state(other)?.clear(ctx)?,
            },
            Command::TimerEvent { at } => ctx.register_event_timer(at)?,
            Command::TimerProcessing { at } => ctx.register_processing_timer(at)?,
            Command::TimerDelete { at, domain } => match domain {
                Domain::EventTime => ctx.delete_event_timer(at)?,
                Domain::ProcessingTime => ctx.delete_processing_timer(at)?,
            },
            Command::Watermark => {
                result.insert("watermark".into(), ctx.watermark().into());
            }
            Command::ProcessingTime => {
                result.insert("processing_time".into(), ctx.processing_time().into());
            }
            Command::Reject { reason } => {
                out.reject(event, reason);
                return Ok(None);
            }
            Command::Fail { message } => return Err(Error::invalid_input(message)),
        }
        Ok(Some(result))
    }
}

/// A stored JSON text back as a value (`null` when absent).
fn parse_stored(text: Option<&str>) -> Result<Value, Error> {
    text.map_or(Ok(Value::Null), |text| {
        serde_json::from_str(text)
            .map_err(|error| Error::internal(format!("stored JSON does not parse: {error}")))
    })
}

fn key_text(key: Option<&[u8]>) -> Value {
    key.map_or(Value::Null, |key| {
        Value::String(String::from_utf8_lossy(key).into_owned())
    })
}

impl KeyedProcessor for StateOps {
    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        Ok(StateOps {
            v: states.value("v").declare()?,
            v_ttl: states
                .value("v_ttl")
                .ttl(Duration::from_millis(config.ttl_ms))
                .declare()?,
            l: states.list("l").declare()?,
            m: states.raw_map("m").declare()?,
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let value: Value = event.json()?;
        let op = value.get("op").cloned();
        let command: Command = serde_json::from_value(value)?;
        if let Some(fields) = self.run(command, event, ctx, out)? {
            let mut result = Map::new();
            result.insert("op".into(), op.unwrap_or(Value::Null));
            result.insert("key".into(), key_text(ctx.key()));
            result.extend(fields);
            out.emit_json(event, &result);
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        timer: &Timer<'_>,
        _ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let fired = Fired {
            timer: timer.at,
            domain: timer.domain.as_str(),
            key: &String::from_utf8_lossy(timer.key),
        };
        out.emit_new_json(Some(timer.key), &fired, timer.at)
    }
}

weir_sdk::export_keyed_processor!(StateOps);
