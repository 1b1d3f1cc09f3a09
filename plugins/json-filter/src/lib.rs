//! `json-filter`: keeps JSON events whose numeric field compares true to a threshold.
//!
//! Settings: `field` (a top-level field name), `op` (`gt`, `ge`, `lt`, `le`, `eq`,
//! `ne`; default `ge`), `value` (the threshold). An event that is not a JSON object,
//! or whose field is missing or not a number, goes to the dead-letter output.
//!
//! ```toml
//! [[operator]]
//! name = "big-spenders"
//! plugin = "json_filter.wasm"
//! settings = { field = "amount", op = "ge", value = 100.0 }
//! ```

use serde::Deserialize;
use weir_sdk::{Error, Event, EventExt, Filter};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFilter {
    field: String,
    #[serde(default)]
    op: Comparison,
    value: f64,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Comparison {
    Gt,
    #[default]
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Filter for FieldFilter {
    fn keep(&mut self, event: &Event<'_>) -> Result<bool, Error> {
        let object: serde_json::Map<String, serde_json::Value> = event.json()?;
        let found = object
            .get(&self.field)
            .ok_or_else(|| Error::invalid_input(format!("no field `{}`", self.field)))?;
        let number = found.as_f64().ok_or_else(|| {
            Error::invalid_input(format!("field `{}` is not a number", self.field))
        })?;
        Ok(match self.op {
            Comparison::Gt => number > self.value,
            Comparison::Ge => number >= self.value,
            Comparison::Lt => number < self.value,
            Comparison::Le => number <= self.value,
            Comparison::Eq => number == self.value,
            Comparison::Ne => number != self.value,
        })
    }
}

weir_sdk::export_filter!(FieldFilter);
