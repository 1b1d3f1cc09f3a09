//! Online feature scaling: [`StandardScaler`] (running mean and variance, Welford) and
//! [`MinMaxScaler`] (running minimum and maximum).
//!
//! Both keep `learn` (update the statistics with one row) apart from `transform` (scale
//! a row with the statistics as they are), so progressive validation can predict with
//! the scaler of the past and learn afterwards.

use serde::{Deserialize, Serialize};

/// Standardises each feature to zero mean and unit variance with running statistics.
///
/// Laws: after rows `x_1..x_n`, `mean[i]` is their mean and `var[i]` their population
/// variance (Welford's update, in river's order of operations); a feature whose
/// variance is 0 scales to `0.0`.
///
/// ```
/// use weir_sdk::learn::StandardScaler;
/// let mut scaler = StandardScaler::new(1);
/// for x in [1.0, 2.0, 3.0] {
///     scaler.learn(&[x]);
/// }
/// let mut out = [0.0];
/// scaler.transform(&[3.0], &mut out);
/// assert!((out[0] - 1.224744871391589).abs() < 1e-12); // (3 - 2) / sqrt(2/3)
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    count: u64,
    means: Vec<f64>,
    vars: Vec<f64>,
}

impl StandardScaler {
    /// A scaler for rows of `features` values, having seen nothing.
    pub fn new(features: usize) -> Self {
        StandardScaler {
            count: 0,
            means: vec![0.0; features],
            vars: vec![0.0; features],
        }
    }

    /// The number of rows learnt.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The number of features per row.
    pub fn features(&self) -> usize {
        self.means.len()
    }

    /// The running means.
    pub fn means(&self) -> &[f64] {
        &self.means
    }

    /// The running population variances.
    pub fn variances(&self) -> &[f64] {
        &self.vars
    }

    /// Updates the statistics with one row (extra values beyond
    /// [`StandardScaler::features`] are ignored, missing ones leave their feature as is).
    pub fn learn(&mut self, row: &[f64]) {
        self.count += 1;
        let n = self.count as f64;
        for ((mean, var), &x) in self.means.iter_mut().zip(&mut self.vars).zip(row) {
            let old_mean = *mean;
            *mean += (x - old_mean) / n;
            *var += ((x - old_mean) * (x - *mean) - *var) / n;
        }
    }

    /// Writes the scaled `row` into `out` (as many values as both have).
    pub fn transform(&self, row: &[f64], out: &mut [f64]) {
        for (((out, &x), mean), var) in out.iter_mut().zip(row).zip(&self.means).zip(&self.vars) {
            let std = var.sqrt();
            *out = if std == 0.0 { 0.0 } else { (x - mean) / std };
        }
    }
}

/// Scales each feature to `[0, 1]` with the running minimum and maximum; a feature
/// seen with one value only scales to `0.0`.
///
/// ```
/// use weir_sdk::learn::MinMaxScaler;
/// let mut scaler = MinMaxScaler::new(1);
/// scaler.learn(&[10.0]);
/// scaler.learn(&[20.0]);
/// let mut out = [0.0];
/// scaler.transform(&[15.0], &mut out);
/// assert_eq!(out, [0.5]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    mins: Vec<f64>,
    maxs: Vec<f64>,
}

impl MinMaxScaler {
    /// A scaler for rows of `features` values, having seen nothing.
    pub fn new(features: usize) -> Self {
        MinMaxScaler {
            mins: vec![f64::INFINITY; features],
            maxs: vec![f64::NEG_INFINITY; features],
        }
    }

    /// Updates the minimum and maximum with one row.
    pub fn learn(&mut self, row: &[f64]) {
        for ((min, max), &x) in self.mins.iter_mut().zip(&mut self.maxs).zip(row) {
            *min = min.min(x);
            *max = max.max(x);
        }
    }

    /// Writes the scaled `row` into `out`.
    pub fn transform(&self, row: &[f64], out: &mut [f64]) {
        for (((out, &x), min), max) in out.iter_mut().zip(row).zip(&self.mins).zip(&self.maxs) {
            let range = max - min;
            *out = if range > 0.0 { (x - min) / range } else { 0.0 };
        }
    }
}
