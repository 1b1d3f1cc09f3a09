//! [`Glm`]: what a generalised linear model trained by SGD keeps and how one step
//! moves it — weights, intercept, their learning rates — shared by
//! [`LogisticRegression`](super::LogisticRegression) and
//! [`LinearRegression`](super::LinearRegression), which differ only in their loss.

use serde::{Deserialize, Serialize};

use super::CLIP_GRADIENT;

/// Weights and intercept of a linear model, with the SGD step of river's `GLM._fit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Glm {
    weights: Vec<f64>,
    intercept: f64,
    learning_rate: f64,
    intercept_rate: f64,
    seen: u64,
}

impl Glm {
    /// Zero weights over `features` inputs; the intercept moves at 0.01.
    pub fn new(features: usize, learning_rate: f64) -> Self {
        Glm {
            weights: vec![0.0; features],
            intercept: 0.0,
            learning_rate,
            intercept_rate: 0.01,
            seen: 0,
        }
    }

    pub fn set_intercept_rate(&mut self, rate: f64) {
        self.intercept_rate = rate;
    }

    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// `w·x + b`.
    pub fn raw(&self, row: &[f64]) -> f64 {
        let dot: f64 = row.iter().zip(&self.weights).map(|(x, w)| x * w).sum();
        dot + self.intercept
    }

    /// One step with `loss_gradient` (the loss's derivative at `raw(row)`), clipped
    /// to ±[`CLIP_GRADIENT`]: `b -= intercept_rate·g`, then `w_i -= learning_rate·g·x_i`.
    pub fn step(&mut self, row: &[f64], loss_gradient: f64) {
        let gradient = loss_gradient.clamp(-CLIP_GRADIENT, CLIP_GRADIENT);
        self.intercept -= self.intercept_rate * gradient;
        for (weight, x) in self.weights.iter_mut().zip(row) {
            *weight -= self.learning_rate * gradient * x;
        }
        self.seen += 1;
    }
}
