//! Progressive-validation metrics: each event is scored before the model learns from
//! it, and the metric is updated with that score, so the figure measures the model on
//! data it had not seen.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// The share of correct predictions.
///
/// ```
/// use weir_sdk::learn::Accuracy;
/// let mut accuracy = Accuracy::default();
/// accuracy.update(true, true);
/// accuracy.update(true, false);
/// assert_eq!(accuracy.get(), 0.5);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    correct: u64,
    count: u64,
}

impl Accuracy {
    /// Counts one prediction against its label.
    pub fn update(&mut self, predicted: bool, actual: bool) {
        self.count += 1;
        self.correct += u64::from(predicted == actual);
    }

    /// The accuracy so far (0 before any prediction).
    pub fn get(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f64 / self.count as f64
        }
    }

    /// The number of predictions counted.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// The mean absolute error of a regression.
///
/// ```
/// use weir_sdk::learn::Mae;
/// let mut mae = Mae::default();
/// mae.update(1.0, 2.0);
/// mae.update(5.0, 2.0);
/// assert_eq!(mae.get(), 2.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mae {
    sum: f64,
    count: u64,
}

impl Mae {
    /// Counts one prediction against its target.
    pub fn update(&mut self, predicted: f64, actual: f64) {
        self.sum += (predicted - actual).abs();
        self.count += 1;
    }

    /// The mean absolute error so far (0 before any prediction).
    pub fn get(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// The exact area under the ROC curve: the probability that a random positive scores
/// above a random negative, ties counting one half (as scikit-learn's
/// `roc_auc_score`, not an approximation over thresholds).
///
/// It keeps every (score, label) pair, or the last `window` of them
/// ([`RocAuc::rolling`]) so that memory stays bounded on an endless stream;
/// [`RocAuc::get`] sorts them, so call it every so many events, not after each.
///
/// ```
/// use weir_sdk::learn::RocAuc;
/// let mut auc = RocAuc::default();
/// for (score, positive) in [(0.1, false), (0.4, false), (0.35, true), (0.8, true)] {
///     auc.update(score, positive);
/// }
/// assert_eq!(auc.get(), 0.75);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RocAuc {
    scored: VecDeque<(f64, bool)>,
    window: Option<usize>,
}

impl RocAuc {
    /// An AUC over the last `window` predictions only.
    pub fn rolling(window: usize) -> Self {
        RocAuc {
            scored: VecDeque::with_capacity(window.min(1 << 16)),
            window: Some(window.max(1)),
        }
    }

    /// Counts one score (probability of the positive class) against its label.
    pub fn update(&mut self, score: f64, positive: bool) {
        if self
            .window
            .is_some_and(|window| self.scored.len() >= window)
        {
            self.scored.pop_front();
        }
        self.scored.push_back((score, positive));
    }

    /// The number of predictions it covers.
    pub fn count(&self) -> usize {
        self.scored.len()
    }

    /// The AUC, or 0.5 while one class has not been seen (nothing to rank).
    pub fn get(&self) -> f64 {
        let mut sorted: Vec<(f64, bool)> = self.scored.iter().copied().collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Walk groups of tied scores upwards: each positive wins over every negative
        // below its group and half of those tied with it.
        let (mut negatives_below, mut wins, mut positives) = (0.0, 0.0, 0.0);
        let mut start = 0;
        while start < sorted.len() {
            let score = sorted[start].0;
            let end = start
                + sorted[start..]
                    .iter()
                    .take_while(|(other, _)| other.total_cmp(&score).is_eq())
                    .count();
            let group = &sorted[start..end];
            let group_positives = group.iter().filter(|(_, positive)| *positive).count() as f64;
            let group_negatives = group.len() as f64 - group_positives;
            wins += group_positives * (negatives_below + 0.5 * group_negatives);
            negatives_below += group_negatives;
            positives += group_positives;
            start = end;
        }
        if positives == 0.0 || negatives_below == 0.0 {
            return 0.5;
        }
        wins / (positives * negatives_below)
    }
}
