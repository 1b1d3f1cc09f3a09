//! Online learning and feature preprocessing for operators that learn as the stream
//! flows: everything here is plain data (serde), small enough to keep in a
//! [`ValueState`](crate::ValueState) per key (one model per key) or under one key (one
//! global model), so a model is checkpointed with the host's state, survives crashes,
//! restarts and hot swaps, and is never kept in the plugin's own memory.
//!
//! - [`StandardScaler`] (Welford, population variance), [`MinMaxScaler`] and
//!   [`OneHot`]: features;
//! - [`LogisticRegression`] and [`LinearRegression`]: generalised linear models trained
//!   by plain SGD, one event at a time;
//! - [`Accuracy`], [`RocAuc`] (exact) and [`Mae`]: progressive-validation metrics
//!   (predict each event first, then learn from it).
//!
//! The arithmetic follows river 0.26 step by step (same update order, same clamps), so a
//! model here gives the same probability at every step as the reference library; the
//! tests replay `phishing.csv` and check river's published figures.
//!
//! ```
//! use weir_sdk::learn::{Accuracy, LogisticRegression, StandardScaler};
//!
//! let mut scaler = StandardScaler::new(2);
//! let mut model = LogisticRegression::new(2, 0.1);
//! let mut accuracy = Accuracy::default();
//! let mut scaled = [0.0; 2];
//! for (x, y) in [([1.0, 0.0], true), ([0.0, 1.0], false), ([0.9, 0.1], true)] {
//!     // Predict first, with the scaler as it is...
//!     scaler.transform(&x, &mut scaled);
//!     accuracy.update(model.predict_proba(&scaled) > 0.5, y);
//!     // ...then learn: the scaler, then the model on the newly scaled row.
//!     scaler.learn(&x);
//!     scaler.transform(&x, &mut scaled);
//!     model.learn(&scaled, y);
//! }
//! assert_eq!(accuracy.count(), 3);
//! ```

mod encode;
mod glm;
mod linear;
mod logistic;
mod metrics;
mod scale;
#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests;

pub use encode::OneHot;
pub use linear::LinearRegression;
pub use logistic::{LogisticRegression, sigmoid};
pub use metrics::{Accuracy, Mae, RocAuc};
pub use scale::{MinMaxScaler, StandardScaler};

/// The largest absolute gradient an update applies (river's `clip_gradient`).
pub const CLIP_GRADIENT: f64 = 1e12;
