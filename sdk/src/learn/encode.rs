//! [`OneHot`]: categorical values as indicator features, for small vocabularies.

use serde::{Deserialize, Serialize};

/// One-hot encoding over a vocabulary that grows as values arrive, up to a fixed
/// number of slots; values beyond it share one "other" slot, so the width of a row
/// never changes once a model has weights for it.
///
/// ```
/// use weir_sdk::learn::OneHot;
/// let mut country = OneHot::new(2); // 2 named slots + "other"
/// let mut row = [0.0; 3];
/// country.encode("fr", &mut row);
/// assert_eq!(row, [1.0, 0.0, 0.0]);
/// country.encode("de", &mut row);
/// assert_eq!(row, [0.0, 1.0, 0.0]);
/// country.encode("it", &mut row); // the vocabulary is full
/// assert_eq!(row, [0.0, 0.0, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneHot {
    vocabulary: Vec<String>,
    slots: usize,
}

impl OneHot {
    /// An encoder with `slots` named values and one slot for every other value.
    pub fn new(slots: usize) -> Self {
        OneHot {
            vocabulary: Vec::new(),
            slots,
        }
    }

    /// The width of an encoded value: `slots + 1`.
    pub fn width(&self) -> usize {
        self.slots + 1
    }

    /// The slot of `value`, learning it if there is room.
    pub fn slot(&mut self, value: &str) -> usize {
        if let Some(slot) = self.vocabulary.iter().position(|known| known == value) {
            return slot;
        }
        if self.vocabulary.len() < self.slots {
            self.vocabulary.push(value.to_owned());
            return self.vocabulary.len() - 1;
        }
        self.slots
    }

    /// Writes the indicators of `value` into `out[..width]` (the rest is untouched).
    pub fn encode(&mut self, value: &str, out: &mut [f64]) {
        let slot = self.slot(value);
        for (index, out) in out.iter_mut().take(self.width()).enumerate() {
            *out = if index == slot { 1.0 } else { 0.0 };
        }
    }
}
