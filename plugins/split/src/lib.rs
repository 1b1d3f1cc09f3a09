//! `split`: a flat-map that splits a string field of JSON objects into one event per
//! part. Each output event is the input object with the field replaced by the part
//! and `part` set to its position.
//!
//! Settings: `field` (the field to split), `separator` (default `" "`). Events without
//! the field go to the `unsplit` output unchanged; events that are not JSON objects go
//! to the dead-letter output.

use serde::Deserialize;
use serde_json::{Map as JsonMap, Value};
use weir_sdk::{Error, Event, EventExt, FlatMap, Output};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Split {
    field: String,
    #[serde(default = "default_separator")]
    separator: String,
}

fn default_separator() -> String {
    " ".to_owned()
}

impl FlatMap for Split {
    const OUTPUTS: &'static [&'static str] = &["unsplit"];

    fn flat_map(&mut self, event: &Event<'_>, out: &mut Output) -> Result<(), Error> {
        let object: JsonMap<String, Value> = event.json()?;
        let Some(text) = object.get(&self.field).and_then(Value::as_str) else {
            out.emit_to("unsplit", event);
            return Ok(());
        };
        let parts: Vec<String> = text
            .split(self.separator.as_str())
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect();
        for (position, part) in parts.into_iter().enumerate() {
            let mut piece = object.clone();
            piece.insert(self.field.clone(), Value::String(part));
            piece.insert("part".to_owned(), Value::from(position));
            out.emit_json(event, &piece);
        }
        Ok(())
    }
}

weir_sdk::export_flat_map!(Split);
