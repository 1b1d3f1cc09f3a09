//! `rolling-moments`: count, mean and standard deviation (population) of a number per
//! window — an incremental window aggregate (world `window-aggregate`) whose
//! accumulator is Welford's `(count, mean, m2)`, merged exactly across panes and
//! sessions with Chan et al.'s formula, so a sliding window never buffers events.
//!
//! Settings: `field`, the dotted JSON path of the number (e.g. `temp`).
//!
//! Result: `{"key":"dev-1","window_start":0,"window_end":600000,"firing":"on-time",
//! "firing_index":0,"count":20,"mean":21.5,"std":0.4}`. An event without a finite
//! number at `field` fails the call as invalid input (the host isolates it and sends
//! it to the dead-letter output).

use serde::{Deserialize, Serialize};
use weir_sdk::{Aggregate, Error, Event, EventExt, JsonPath, Settings, WindowInfo};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: JsonPath,
}

struct RollingMoments {
    field: JsonPath,
}

/// Welford's running moments.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Moments {
    count: u64,
    mean: f64,
    m2: f64,
}

#[derive(Serialize)]
struct WindowMoments<'a> {
    #[serde(flatten)]
    window: WindowInfo<'a>,
    count: u64,
    mean: f64,
    std: f64,
}

impl Aggregate for RollingMoments {
    type Acc = Moments;

    fn new(settings: Settings) -> Result<Self, Error> {
        let config: Config = settings.parse()?;
        Ok(RollingMoments {
            field: config.field,
        })
    }

    fn init(&self) -> Moments {
        Moments {
            count: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }

    fn add(&self, acc: &mut Moments, event: &Event<'_>) -> Result<(), Error> {
        let value: f64 = event
            .json_at(&self.field)?
            .filter(|value: &f64| value.is_finite())
            .ok_or_else(|| Error::invalid_input(format!("no finite number `{}`", self.field)))?;
        acc.count += 1;
        let delta = value - acc.mean;
        acc.mean += delta / acc.count as f64;
        acc.m2 += delta * (value - acc.mean);
        Ok(())
    }

    fn merge(&self, acc: &mut Moments, other: Moments) {
        if other.count == 0 {
            return;
        }
        let count = acc.count + other.count;
        let delta = other.mean - acc.mean;
        acc.mean += delta * other.count as f64 / count as f64;
        acc.m2 += other.m2 + delta * delta * acc.count as f64 * other.count as f64 / count as f64;
        acc.count = count;
    }

    fn finish(
        &self,
        acc: Moments,
        window: &WindowInfo<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let std = if acc.count > 0 {
            (acc.m2 / acc.count as f64).sqrt()
        } else {
            0.0
        };
        let result = WindowMoments {
            window: *window,
            count: acc.count,
            mean: acc.mean,
            std,
        };
        serde_json::to_writer(out, &result).map_err(Error::internal)
    }
}

weir_sdk::export_aggregate!(RollingMoments);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_moments_equal_those_of_all_values() {
        let aggregate = RollingMoments {
            field: "x".parse().expect("a path"),
        };
        let push = |acc: &mut Moments, value: f64| {
            acc.count += 1;
            let delta = value - acc.mean;
            acc.mean += delta / acc.count as f64;
            acc.m2 += delta * (value - acc.mean);
        };
        let values = [3.0, 1.5, 8.25, -2.0, 4.0, 4.5, 10.0];
        let (mut all, mut left, mut right) = (aggregate.init(), aggregate.init(), aggregate.init());
        for (index, value) in values.iter().enumerate() {
            push(&mut all, *value);
            push(if index < 3 { &mut left } else { &mut right }, *value);
        }
        aggregate.merge(&mut left, right);
        assert_eq!(left.count, all.count);
        assert!((left.mean - all.mean).abs() < 1e-12);
        assert!((left.m2 - all.m2).abs() < 1e-9);
    }
}
