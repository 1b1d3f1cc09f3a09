//! `device-anomaly`: early warnings for devices — a keyed process function over the
//! rolling statistics of each device (one result per sliding window, e.g. from
//! `rolling-moments`), keyed by device.
//!
//! Per device the host keeps an online model of the device's normal behaviour: a
//! standard scaler (Welford) over the window means it has judged normal. Each window's
//! mean gets a z-score against that baseline; once the baseline has `warmup` windows,
//! a window with `|z| >= z_threshold` is a warning (to the `warnings` output) and is
//! not learnt, so a drifting device does not teach the baseline that drift is normal.
//! Every window also goes to the main output with its `z` (null during warm-up).
//!
//! Settings: `field` (default `mean`), `z_threshold` (default 4.0), `warmup` (default
//! 10 windows).
//!
//! Warning: `{"device":"dev-04","window_start":..,"window_end":..,"mean":27.9,"z":5.2,
//! "baseline_mean":21.0,"baseline_std":0.6}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map as JsonMap, Value};
use weir_sdk::learn::StandardScaler;
use weir_sdk::{
    Error, Event, EventExt, JsonPath, KeyedContext, KeyedProcessor, Output, Settings,
    StateRegistry, ValueState,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: Option<JsonPath>,
    #[serde(default = "default_threshold")]
    z_threshold: f64,
    #[serde(default = "default_warmup")]
    warmup: u64,
}

fn default_threshold() -> f64 {
    4.0
}

fn default_warmup() -> u64 {
    10
}

struct DeviceAnomaly {
    config: Config,
    field: JsonPath,
    baseline: ValueState<StandardScaler>,
}

#[derive(Serialize)]
struct Warning<'a> {
    device: &'a str,
    window_start: Option<i64>,
    window_end: Option<i64>,
    mean: f64,
    z: f64,
    baseline_mean: f64,
    baseline_std: f64,
}

impl KeyedProcessor for DeviceAnomaly {
    const OUTPUTS: &'static [&'static str] = &["warnings"];

    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        if !(config.z_threshold.is_finite() && config.z_threshold > 0.0) {
            return Err(Error::config("`z_threshold` must be a positive number"));
        }
        let field = match &config.field {
            Some(field) => field.clone(),
            None => "mean".parse()?,
        };
        Ok(DeviceAnomaly {
            config,
            field,
            baseline: states.value("baseline").declare()?,
        })
    }

    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let mut window: JsonMap<String, Value> = event.json()?;
        let Some(value) = event.json_at::<f64>(&self.field)? else {
            out.reject(event, format!("no number `{}`", self.field));
            return Ok(());
        };
        let mut baseline = self
            .baseline
            .get(ctx)?
            .unwrap_or_else(|| StandardScaler::new(1));
        let warmed_up = baseline.count() >= self.config.warmup;
        let mut z = [0.0];
        baseline.transform(&[value], &mut z);
        let z = z[0];
        let anomalous = warmed_up && z.abs() >= self.config.z_threshold;
        if anomalous {
            let device = String::from_utf8_lossy(event.key.unwrap_or_default());
            let warning = Warning {
                device: &device,
                window_start: window.get("window_start").and_then(Value::as_i64),
                window_end: window.get("window_end").and_then(Value::as_i64),
                mean: value,
                z,
                baseline_mean: baseline.means()[0],
                baseline_std: baseline.variances()[0].sqrt(),
            };
            let text = serde_json::to_vec(&warning)?;
            out.emit_new_to("warnings", event.key, &text, event.timestamp);
        } else {
            baseline.learn(&[value]);
            self.baseline.set(ctx, &baseline)?;
        }
        window.insert(
            "z".into(),
            if warmed_up {
                Value::from(z)
            } else {
                Value::Null
            },
        );
        window.insert("anomalous".into(), Value::Bool(anomalous));
        out.emit_json(event, &window);
        Ok(())
    }
}

weir_sdk::export_keyed_processor!(DeviceAnomaly);
