//! `enrich`: adds fields to JSON objects and routes large transactions to an `alerts`
//! output.
//!
//! Settings:
//! - `lookup`: `{ field, into, table, default }` — sets `into` to `table[field's value]`
//!   (or `default`), e.g. a region from a country code;
//! - `add`: an object of constant fields to add;
//! - `alert_field` and `alert_above`: events whose numeric `alert_field` is above the
//!   threshold also go, enriched, to the `alerts` output.
//!
//! Events that are not JSON objects go to the dead-letter output.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map as JsonMap, Value};
use weir_sdk::{Batch, Error, EventExt, Output, Processor, Settings};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lookup {
    field: String,
    into: String,
    table: HashMap<String, Value>,
    #[serde(default)]
    default: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrichSettings {
    lookup: Option<Lookup>,
    #[serde(default)]
    add: JsonMap<String, Value>,
    alert_field: Option<String>,
    alert_above: Option<f64>,
}

struct Enrich {
    settings: EnrichSettings,
    alerts: u64,
}

impl Enrich {
    fn enrich(&self, object: &mut JsonMap<String, Value>) {
        if let Some(lookup) = &self.settings.lookup {
            let found = object
                .get(&lookup.field)
                .and_then(Value::as_str)
                .and_then(|key| lookup.table.get(key))
                .unwrap_or(&lookup.default)
                .clone();
            object.insert(lookup.into.clone(), found);
        }
        for (name, value) in &self.settings.add {
            object.insert(name.clone(), value.clone());
        }
    }

    fn is_alert(&self, object: &JsonMap<String, Value>) -> bool {
        match (&self.settings.alert_field, self.settings.alert_above) {
            (Some(field), Some(threshold)) => object
                .get(field)
                .and_then(Value::as_f64)
                .is_some_and(|value| value > threshold),
            _ => false,
        }
    }
}

impl Processor for Enrich {
    const OUTPUTS: &'static [&'static str] = &["alerts"];

    fn init(settings: Settings) -> Result<Self, Error> {
        let settings: EnrichSettings = settings.parse()?;
        if settings.alert_field.is_some() != settings.alert_above.is_some() {
            return Err(Error::config("`alert_field` and `alert_above` go together"));
        }
        Ok(Enrich {
            settings,
            alerts: 0,
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error> {
        let alerts_before = self.alerts;
        for event in batch.iter() {
            let mut object: JsonMap<String, Value> = match event.json() {
                Ok(object) => object,
                Err(error) => {
                    out.reject(&event, error);
                    continue;
                }
            };
            self.enrich(&mut object);
            let alert = self.is_alert(&object);
            out.emit_json(&event, &object);
            if alert {
                self.alerts += 1;
                let value = serde_json::to_vec(&object)?;
                out.emit_new_to("alerts", event.key, &value, event.timestamp);
            }
        }
        if self.alerts > alerts_before {
            weir_sdk::metrics::counter_add("alerts", self.alerts - alerts_before);
        }
        Ok(())
    }
}

weir_sdk::export_processor!(Enrich);
