//! `model-score`: scores each event with an ONNX model the pipeline grants, one host
//! call per batch (`[N, F]` features in, `[N, C]` scores out).
//!
//! Settings:
//! - `model`: the granted model's name (default `model`);
//! - `features`: JSON paths of the F features of each event (JSON values), or absent
//!   for binary events whose value is F little-endian `f32`s;
//! - `columns`: F, for binary events (required without `features`);
//! - `output`: the model output to read (default: its first);
//! - `class`: the column of the output that is the score (default: the last, i.e. the
//!   positive class of a `[N, 2]` softmax, or the only column of `[N, 1]`);
//! - `field`: the field the score is written to in JSON events (default `score`);
//! - `threshold`: events scoring at least this also go to the `alerts` output.
//!
//! JSON events come out with the score added; binary events come out as the score, one
//! little-endian `f32` per event. An event without a numeric feature is rejected (to the
//! dead-letter output) and the rest of the batch is scored.
//!
//! ```toml
//! [[operator]]
//! name = "score"
//! plugin = "model_score.wasm"
//! models = { fraud = "models/fraud.onnx" }
//! settings = { model = "fraud", features = ["amount", "ratio"], threshold = 0.9 }
//! ```

use serde::Deserialize;
use serde_json::{Map as JsonMap, Value};
use weir_sdk::inference::{Model, TensorData, TensorType};
use weir_sdk::{Batch, Error, EventExt, JsonPath, Output, Processor, Settings};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreSettings {
    #[serde(default = "default_model")]
    model: String,
    features: Option<Vec<JsonPath>>,
    columns: Option<usize>,
    output: Option<String>,
    class: Option<usize>,
    #[serde(default = "default_field")]
    field: String,
    threshold: Option<f64>,
}

fn default_model() -> String {
    "model".into()
}

fn default_field() -> String {
    "score".into()
}

struct ModelScore {
    settings: ScoreSettings,
    columns: usize,
    model: Model,
    /// The features of the batch's scored events, row by row, as little-endian `f32`s
    /// (the input tensor's data).
    rows: Vec<u8>,
    /// Which events of the batch the rows are for.
    scored: Vec<usize>,
}

impl ModelScore {
    /// The features of one JSON event, appended to `rows`.
    fn json_features(&mut self, event: &weir_sdk::Event<'_>) -> Result<(), Error> {
        let Some(paths) = &self.settings.features else {
            return Ok(());
        };
        let start = self.rows.len();
        for path in paths {
            match event.json_at::<f64>(path) {
                Ok(Some(value)) => self.rows.extend_from_slice(&(value as f32).to_le_bytes()),
                Ok(None) => {
                    self.rows.truncate(start);
                    return Err(Error::invalid_input(format!("no numeric field `{path}`")));
                }
                Err(error) => {
                    self.rows.truncate(start);
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    fn binary_features(&mut self, value: &[u8]) -> Result<(), Error> {
        if value.len() != self.columns * 4 {
            return Err(Error::invalid_input(format!(
                "expected {} little-endian f32 features ({} bytes), got {} bytes",
                self.columns,
                self.columns * 4,
                value.len()
            )));
        }
        // Already the tensor's layout: copied as they are.
        self.rows.extend_from_slice(value);
        Ok(())
    }

    /// One score per scored event, from the model's output `[N, C]`.
    fn scores(&mut self) -> Result<Vec<f32>, Error> {
        let rows = self.rows.len() / (self.columns * 4);
        let outputs = self.model.run(TensorData {
            dims: vec![rows as u32, self.columns as u32],
            ty: TensorType::F32,
            data: std::mem::take(&mut self.rows),
        })?;
        let tensor = match &self.settings.output {
            Some(name) => outputs.get(name)?,
            None => outputs.first()?,
        };
        let values = tensor.to_f32()?;
        let classes = tensor.dims.get(1).copied().unwrap_or(1).max(1) as usize;
        let class = self.settings.class.unwrap_or(classes - 1);
        if class >= classes {
            return Err(Error::config(format!(
                "`class` {class} is not a column of the model's output {:?}",
                tensor.dims
            )));
        }
        Ok(values.chunks_exact(classes).map(|row| row[class]).collect())
    }

    /// Scores a batch of binary events whose features are all in `rows`.
    fn score_whole_batch(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error> {
        let scores = self.scores()?;
        let values: Vec<u8> = scores
            .iter()
            .flat_map(|score| score.to_le_bytes())
            .collect();
        out.emit_all_with_values(batch, &values, 4);
        if let Some(threshold) = self.settings.threshold {
            let mut alerts = 0;
            for (index, score) in scores.iter().enumerate() {
                if f64::from(*score) >= threshold {
                    let event = batch.event(index);
                    out.emit_new_to("alerts", event.key, &score.to_le_bytes(), event.timestamp);
                    alerts += 1;
                }
            }
            if alerts > 0 {
                weir_sdk::metrics::counter_add("alerts", alerts);
            }
        }
        Ok(())
    }
}

impl Processor for ModelScore {
    const OUTPUTS: &'static [&'static str] = &["alerts"];

    fn init(settings: Settings) -> Result<Self, Error> {
        let settings: ScoreSettings = settings.parse()?;
        let columns = match (&settings.features, settings.columns) {
            (Some(features), None) => features.len(),
            (None, Some(columns)) if columns > 0 => columns,
            _ => {
                return Err(Error::config(
                    "give `features` (JSON paths) for JSON events or `columns` for binary f32 events",
                ));
            }
        };
        let model = Model::load(&settings.model)?;
        Ok(ModelScore {
            settings,
            columns,
            model,
            rows: Vec::new(),
            scored: Vec::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error> {
        self.rows.clear();
        self.scored.clear();
        let binary = self.settings.features.is_none();
        if binary && let Some(rows) = batch.fixed_width_values(self.columns * 4) {
            // Every event has its features: the value column is the input tensor and
            // the scores become the output's value column, without walking the events.
            self.rows.extend_from_slice(rows);
            return self.score_whole_batch(batch, out);
        }
        for (index, event) in batch.iter().enumerate() {
            let read = if binary {
                self.binary_features(event.value)
            } else {
                self.json_features(&event)
            };
            match read {
                Ok(()) => self.scored.push(index),
                Err(error) => out.reject(&event, error),
            }
        }
        if self.scored.is_empty() {
            return Ok(());
        }
        let scores = self.scores()?;
        let mut alerts = 0;
        // One walk over the batch beside the scored events (`Batch::event` would search
        // the keyless and header columns for each).
        let mut scored = self.scored.iter().copied().zip(scores.iter().copied());
        let mut next = scored.next();
        for (index, event) in batch.iter().enumerate() {
            let Some((scored_index, score)) = next else {
                break;
            };
            if scored_index != index {
                continue;
            }
            next = scored.next();
            let alert = self
                .settings
                .threshold
                .is_some_and(|threshold| f64::from(score) >= threshold);
            if binary {
                out.emit_value(&event, &score.to_le_bytes());
                if alert {
                    out.emit_new_to("alerts", event.key, &score.to_le_bytes(), event.timestamp);
                }
                alerts += u64::from(alert);
                continue;
            }
            let mut object: JsonMap<String, Value> = event.json()?;
            object.insert(self.settings.field.clone(), Value::from(f64::from(score)));
            let value = serde_json::to_vec(&object)?;
            out.emit_value(&event, &value);
            if alert {
                alerts += 1;
                out.emit_new_to("alerts", event.key, &value, event.timestamp);
            }
        }
        if alerts > 0 {
            weir_sdk::metrics::counter_add("alerts", alerts);
        }
        Ok(())
    }
}

weir_sdk::export_processor!(ModelScore);
