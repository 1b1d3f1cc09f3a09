//! `online-learner`: a model that learns as the stream flows — a keyed process function
//! keeping, per key, an online standard scaler and a logistic (or linear) regression
//! trained by SGD, in the host's state.
//!
//! Each event is first predicted with the model as it is, then learnt from
//! (progressive validation), following `weir_sdk::learn` (river's semantics step by
//! step). The model and its metrics live in keyed state, so they are checkpointed with
//! the stream, survive crashes, restarts and new plugin versions, and one instance
//! serves any number of keys. One model per key: `key_by = "user"`; one model for the
//! whole stream: `key_by = "$all"` (every event gets the key `all`).
//!
//! Settings:
//! - `task`: `logistic` (default; the target is 0/1 or false/true) or `linear`;
//! - `features`: JSON paths of the features (JSON events, e.g. a CSV source's columns),
//!   and `label`: the JSON path of the target (default `label`); or, for binary
//!   events, `columns`: F, each value then holding F features and the target as
//!   little-endian `f64`s;
//! - `learning_rate` (default 0.01) and `intercept_rate` (default 0.01);
//! - `auc`: whether to keep the ROC AUC (default true; exact over every prediction
//!   unless `auc_window` bounds it to the last n: exact AUC keeps every prediction, so
//!   bound it on long streams);
//! - `metrics_every`: emit the key's metrics after every n-th event (default 1000, 0:
//!   never);
//! - `copy`: JSON paths of the event copied into its prediction, under the path's text
//!   (e.g. `["key", "window_start"]` to tell sessions apart).
//!
//! Outputs: on `main`, one prediction per event, keyed and timed as the event:
//! `{"n":17,"prediction":0.73,"target":1.0}` (`n`: rows learnt before this one; the
//! `copy` fields first), or for
//! binary events the prediction as a little-endian `f64`; on `metrics`,
//! `{"n":1000,"accuracy":0.89,"roc_auc":0.95}` (`{"n":..,"mae":..}` for `linear`).

mod learner;

use serde::Deserialize;
use serde_json::Value;
use weir_sdk::{
    Error, Event, EventExt, JsonPath, KeyedContext, KeyedProcessor, Output, Settings,
    StateRegistry, ValueState,
};

use learner::{Learner, Scores, Task};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_task")]
    task: Task,
    features: Option<Vec<JsonPath>>,
    label: Option<JsonPath>,
    columns: Option<usize>,
    #[serde(default = "default_rate")]
    learning_rate: f64,
    #[serde(default = "default_rate")]
    intercept_rate: f64,
    #[serde(default = "default_true")]
    auc: bool,
    auc_window: Option<usize>,
    #[serde(default = "default_metrics_every")]
    metrics_every: u64,
    #[serde(default)]
    copy: Vec<JsonPath>,
}

fn default_task() -> Task {
    Task::Logistic
}

fn default_rate() -> f64 {
    0.01
}

fn default_true() -> bool {
    true
}

fn default_metrics_every() -> u64 {
    1000
}

/// Where the features and target of an event come from.
enum Input {
    Json {
        features: Vec<JsonPath>,
        label: JsonPath,
    },
    /// F features then the target, little-endian `f64`.
    Binary,
}

struct OnlineLearner {
    config: Config,
    input: Input,
    features: usize,
    learner: ValueState<Learner>,
    scores: ValueState<Scores>,
    /// Room reused from event to event.
    row: Vec<f64>,
    scaled: Vec<f64>,
}

impl OnlineLearner {
    /// Reads the features into `self.row`; returns the target.
    fn read(&mut self, event: &Event<'_>) -> Result<f64, Error> {
        self.row.clear();
        match &self.input {
            Input::Json { features, label } => {
                for path in features {
                    let value = event
                        .json_at::<f64>(path)?
                        .ok_or_else(|| Error::invalid_input(format!("no feature `{path}`")))?;
                    self.row.push(value);
                }
                match event.json_at::<Value>(label)? {
                    Some(Value::Bool(positive)) => Ok(if positive { 1.0 } else { 0.0 }),
                    Some(Value::Number(number)) => number
                        .as_f64()
                        .ok_or_else(|| Error::invalid_input("the target is not a number")),
                    _ => Err(Error::invalid_input(format!(
                        "no numeric or boolean target `{label}`"
                    ))),
                }
            }
            Input::Binary => {
                let expected = (self.features + 1) * 8;
                if event.value.len() != expected {
                    return Err(Error::invalid_input(format!(
                        "expected {} little-endian f64s (features, then the target): {expected} bytes, got {}",
                        self.features + 1,
                        event.value.len()
                    )));
                }
                let mut values = event.value.chunks_exact(8).map(|chunk| {
                    let mut bytes = [0; 8];
                    bytes.copy_from_slice(chunk);
                    f64::from_le_bytes(bytes)
                });
                self.row.extend(values.by_ref().take(self.features));
                values
                    .next()
                    .ok_or_else(|| Error::invalid_input("no target"))
            }
        }
    }
}

fn fresh_learner(config: &Config, features: usize) -> Learner {
    Learner::new(
        config.task,
        features,
        config.learning_rate,
        config.intercept_rate,
    )
}

fn fresh_scores(config: &Config) -> Scores {
    Scores::new(config.task, config.auc.then_some(config.auc_window))
}

impl KeyedProcessor for OnlineLearner {
    const OUTPUTS: &'static [&'static str] = &["metrics"];

    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        let (input, features) = match (&config.features, config.columns) {
            (Some(features), None) if !features.is_empty() => (
                Input::Json {
                    features: features.clone(),
                    label: match &config.label {
                        Some(label) => label.clone(),
                        None => "label".parse()?,
                    },
                },
                features.len(),
            ),
            (None, Some(columns))
                if columns > 0 && config.label.is_none() && config.copy.is_empty() =>
            {
                (Input::Binary, columns)
            }
            _ => {
                return Err(Error::config(
                    "give `features` (JSON paths, with `label`) for JSON events, or `columns` for binary f64 events",
                ));
            }
        };
        let valid_rate = |rate: f64| rate.is_finite() && rate >= 0.0;
        if !valid_rate(config.learning_rate) || !valid_rate(config.intercept_rate) {
            return Err(Error::config(
                "`learning_rate` and `intercept_rate` must be finite and not negative",
            ));
        }
        if config.auc_window == Some(0) {
            return Err(Error::config("`auc_window` must be at least 1"));
        }
        Ok(OnlineLearner {
            config,
            input,
            features,
            learner: states.value("learner").declare()?,
            scores: states.value("scores").declare()?,
            row: Vec::with_capacity(features),
            scaled: vec![0.0; features],
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let target = match self.read(event) {
            Ok(target) => target,
            Err(error) => {
                out.reject(event, error);
                return Ok(());
            }
        };
        // Predict, then learn (progressive validation); each value is decoded once
        // per call and key, not once per event.
        let (config, features) = (&self.config, self.features);
        let (row, scaled) = (&self.row, &mut self.scaled);
        let (seen, prediction) = self.learner.update(
            ctx,
            || fresh_learner(config, features),
            |learner| {
                let seen = learner.seen();
                let prediction = learner.predict(row, scaled);
                learner.learn(row, target, scaled);
                (seen, prediction)
            },
        )?;
        let every = config.metrics_every;
        let metrics = self.scores.update(
            ctx,
            || fresh_scores(config),
            |scores| {
                scores.update(prediction, target);
                (every > 0 && (seen + 1) % every == 0).then(|| scores.to_json(seen + 1))
            },
        )?;
        match self.input {
            Input::Binary => out.emit_value(event, &prediction.to_le_bytes()),
            Input::Json { .. } => {
                let mut fields = serde_json::Map::new();
                for path in &self.config.copy {
                    let value = event.json_at::<Value>(path)?.unwrap_or(Value::Null);
                    fields.insert(path.to_string(), value);
                }
                fields.insert("n".into(), seen.into());
                fields.insert("prediction".into(), prediction.into());
                fields.insert("target".into(), target.into());
                out.emit_json(event, &fields);
            }
        }
        if let Some(metrics) = metrics {
            let value = serde_json::to_vec(&metrics)?;
            out.emit_new_to("metrics", event.key, &value, event.timestamp);
        }
        Ok(())
    }
}

weir_sdk::export_keyed_processor!(OnlineLearner);
