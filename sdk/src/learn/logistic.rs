//! [`LogisticRegression`]: binary classification by plain SGD on the log loss.

use serde::{Deserialize, Serialize};

use super::glm::Glm;

/// The logistic function, clamped as river clamps it: exactly `0.0` below -30 and
/// `1.0` above 30.
///
/// ```
/// use weir_sdk::learn::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert_eq!(sigmoid(-31.0), 0.0);
/// assert_eq!(sigmoid(31.0), 1.0);
/// ```
pub fn sigmoid(x: f64) -> f64 {
    if x < -30.0 {
        0.0
    } else if x > 30.0 {
        1.0
    } else {
        1.0 / (1.0 + (-x).exp())
    }
}

/// Logistic regression trained one row at a time by SGD: weights start at zero, the
/// weights move at `learning_rate` and the intercept at `intercept_rate` (0.01 by
/// default), gradients are clipped to ±[`CLIP_GRADIENT`](super::CLIP_GRADIENT).
///
/// One step of [`LogisticRegression::learn`] (river's `GLM._fit`): with
/// `raw = w·x + b` before the step and `y ∈ {-1, +1}`, the loss gradient is
/// `g = -y / (exp(y·raw) + 1)` (`-y·exp(-y·raw)` when `y·raw > 18`, `-y` when
/// `y·raw < -18`); then `b -= intercept_rate·g` and `w_i -= learning_rate·g·x_i`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    model: Glm,
}

impl LogisticRegression {
    /// A model over `features` inputs that has learnt nothing (predicts 0.5).
    pub fn new(features: usize, learning_rate: f64) -> Self {
        LogisticRegression {
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

    /// The intercept (bias).
    pub fn intercept(&self) -> f64 {
        self.model.intercept()
    }

    /// The number of rows learnt.
    pub fn seen(&self) -> u64 {
        self.model.seen()
    }

    /// `w·x + b`: the log-odds of the positive class.
    pub fn raw(&self, row: &[f64]) -> f64 {
        self.model.raw(row)
    }

    /// The probability of the positive class; it is predicted when this is `> 0.5`.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.raw(row))
    }

    /// One SGD step on `row` labelled `positive`.
    pub fn learn(&mut self, row: &[f64], positive: bool) {
        let y = if positive { 1.0 } else { -1.0 };
        let z = y * self.raw(row);
        let gradient = if z > 18.0 {
            -y * (-z).exp()
        } else if z < -18.0 {
            -y
        } else {
            -y / (z.exp() + 1.0)
        };
        self.model.step(row, gradient);
    }
}
