//! [`LinearRegression`]: regression by plain SGD on the squared loss.

use serde::{Deserialize, Serialize};

use super::glm::Glm;

/// Linear regression trained one row at a time by SGD on the squared loss
/// `(p - y)²`, whose gradient is `2·(p - y)` (river's convention, as in Vowpal Wabbit
/// and PyTorch): weights start at zero, move at `learning_rate` (river's default 0.01),
/// the intercept at `intercept_rate` (0.01); gradients are clipped to
/// ±[`CLIP_GRADIENT`](super::CLIP_GRADIENT).
///
/// ```
/// use weir_sdk::learn::LinearRegression;
/// let mut model = LinearRegression::new(1, 0.05);
/// for _ in 0..2000 {
///     for x in [0.0, 0.5, 1.0] {
///         model.learn(&[x], 3.0 * x + 1.0);
///     }
/// }
/// assert!((model.predict(&[2.0]) - 7.0).abs() < 0.05);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearRegression {
    model: Glm,
}

impl LinearRegression {
    /// A model over `features` inputs that has learnt nothing (predicts 0).
    pub fn new(features: usize, learning_rate: f64) -> Self {
        LinearRegression {
            model: Glm::new(features, learning_rate),
        }
    }

    /// The same model with another learning rate for the intercept.
    pub fn with_intercept_rate(mut self, rate: f64) -> Self {
        self.model.set_intercept_rate(rate);
        self
    }

    /// The weights, one per feature.
    pub fn weights(&self) -> &[f64] {
        self.model.weights()
    }

    /// The intercept.
    pub fn intercept(&self) -> f64 {
        self.model.intercept()
    }

    /// The number of rows learnt.
    pub fn seen(&self) -> u64 {
        self.model.seen()
    }

    /// `w·x + b`.
    pub fn predict(&self, row: &[f64]) -> f64 {
        self.model.raw(row)
    }

    /// One SGD step on `row` with target `y`.
    pub fn learn(&mut self, row: &[f64], y: f64) {
        let gradient = 2.0 * (self.predict(row) - y);
        self.model.step(row, gradient);
    }
}
