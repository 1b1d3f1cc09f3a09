//! `{{name}}`: a stateless map, a Weir plugin (world `stateless-processor`).
//!
//! Adds `<field>_length`, the number of characters of the text field `field` (from the
//! operator's `settings`), to each JSON object. An event that is not a JSON object, or
//! has no such text field, goes to the dead-letter output with the reason; the others
//! flow on, in order.
//!
//! Build with `weir build` (or `sh build.sh`), test with `weir test`.

use serde::Deserialize;
use serde_json::{Map as JsonMap, Value};
use weir_sdk::{Error, Event, EventExt, Map};

/// The operator, made from its settings: `settings = { field = "text" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextLength {
    /// The text field to measure.
    field: String,
}

impl Map for TextLength {
    fn map(&mut self, event: &Event<'_>, value: &mut Vec<u8>) -> Result<(), Error> {
        let mut object: JsonMap<String, Value> = event.json()?;
        let length = object
            .get(&self.field)
            .and_then(Value::as_str)
            .map(|text| text.chars().count())
            .ok_or_else(|| Error::invalid_input(format!("no text field `{}`", self.field)))?;
        object.insert(format!("{}_length", self.field), length.into());
        serde_json::to_writer(value, &object).map_err(Error::internal)
    }
}

weir_sdk::export_map!(TextLength);
