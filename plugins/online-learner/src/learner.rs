//! [`Learner`]: what one model keeps in the host's state — the scaler and the linear
//! model — and the predict-then-learn step; [`Scores`]: the running metrics, kept
//! apart so that the model's state stays small.

use serde::{Deserialize, Serialize};
use weir_sdk::learn::{
    Accuracy, LinearRegression, LogisticRegression, Mae, RocAuc, StandardScaler,
};

/// The two tasks the plugin learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Binary classification: a probability, label 0/1 (or false/true).
    Logistic,
    /// Regression: a number.
    Linear,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Model {
    Logistic(LogisticRegression),
    Linear(LinearRegression),
}

/// A scaler and a model, as one state value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    scaler: StandardScaler,
    model: Model,
}

impl Learner {
    /// A learner over `features` inputs that has seen nothing.
    pub fn new(task: Task, features: usize, learning_rate: f64, intercept_rate: f64) -> Self {
        let model = match task {
            Task::Logistic => Model::Logistic(
                LogisticRegression::new(features, learning_rate)
                    .with_intercept_rate(intercept_rate),
            ),
            Task::Linear => Model::Linear(
                LinearRegression::new(features, learning_rate).with_intercept_rate(intercept_rate),
            ),
        };
        Learner {
            scaler: StandardScaler::new(features),
            model,
        }
    }

    /// The prediction for `row` with the model as it is (a probability, or a number).
    /// `scaled` is room for the scaled row.
    pub fn predict(&self, row: &[f64], scaled: &mut [f64]) -> f64 {
        self.scaler.transform(row, scaled);
        match &self.model {
            Model::Logistic(model) => model.predict_proba(scaled),
            Model::Linear(model) => model.predict(scaled),
        }
    }

    /// Learns from `row` with target `y` (0/1 for logistic): the scaler first, then the
    /// model on the row scaled anew.
    pub fn learn(&mut self, row: &[f64], y: f64, scaled: &mut [f64]) {
        self.scaler.learn(row);
        self.scaler.transform(row, scaled);
        match &mut self.model {
            Model::Logistic(model) => model.learn(scaled, y > 0.5),
            Model::Linear(model) => model.learn(scaled, y),
        }
    }

    /// Rows learnt.
    pub fn seen(&self) -> u64 {
        self.scaler.count()
    }
}

/// The progressive-validation metrics of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Scores {
    /// Accuracy and, unless switched off, ROC AUC.
    Classification {
        accuracy: Accuracy,
        auc: Option<RocAuc>,
    },
    /// Mean absolute error.
    Regression { mae: Mae },
}

impl Scores {
    /// Fresh metrics for `task`; `auc` = `None` (no AUC), `Some(None)` (exact) or
    /// `Some(Some(n))` (over the last n predictions).
    pub fn new(task: Task, auc: Option<Option<usize>>) -> Self {
        match task {
            Task::Logistic => Scores::Classification {
                accuracy: Accuracy::default(),
                auc: auc.map(|window| window.map_or_else(RocAuc::default, RocAuc::rolling)),
            },
            Task::Linear => Scores::Regression {
                mae: Mae::default(),
            },
        }
    }

    /// Counts one prediction against its target.
    pub fn update(&mut self, predicted: f64, y: f64) {
        match self {
            Scores::Classification { accuracy, auc } => {
                accuracy.update(predicted > 0.5, y > 0.5);
                if let Some(auc) = auc {
                    auc.update(predicted, y > 0.5);
                }
            }
            Scores::Regression { mae } => mae.update(predicted, y),
        }
    }

    /// The figures, as JSON fields.
    pub fn to_json(&self, seen: u64) -> serde_json::Value {
        match self {
            Scores::Classification { accuracy, auc } => serde_json::json!({
                "n": seen,
                "accuracy": accuracy.get(),
                "roc_auc": auc.as_ref().map(RocAuc::get),
            }),
            Scores::Regression { mae } => serde_json::json!({ "n": seen, "mae": mae.get() }),
        }
    }
}
