//! The learners replayed on `phishing.csv` in row order, against river 0.26.1's
//! published figures (`examples/online-learning/README.md`).

use super::*;

const PHISHING: &str = include_str!("../../../examples/data/phishing.csv");

fn rows() -> Vec<([f64; 9], bool)> {
    PHISHING
        .lines()
        .skip(1)
        .map(|line| {
            let values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
            let mut features = [0.0; 9];
            features.copy_from_slice(&values[..9]);
            (features, values[9] == 1.0)
        })
        .collect()
}

/// Progressive validation of scaler + logistic regression; (accuracy, exact AUC).
fn replay(learning_rate: f64) -> (f64, f64) {
    let mut scaler = StandardScaler::new(9);
    let mut model = LogisticRegression::new(9, learning_rate);
    let (mut accuracy, mut auc) = (Accuracy::default(), RocAuc::default());
    let mut scaled = [0.0; 9];
    for (features, positive) in rows() {
        scaler.transform(&features, &mut scaled);
        let p = model.predict_proba(&scaled);
        accuracy.update(p > 0.5, positive);
        auc.update(p, positive);
        scaler.learn(&features);
        scaler.transform(&features, &mut scaled);
        model.learn(&scaled, positive);
    }
    assert_eq!(accuracy.count(), 1250);
    (accuracy.get(), auc.get())
}

#[test]
fn logistic_regression_reproduces_river_on_phishing() {
    let (accuracy, auc) = replay(0.01);
    assert_eq!(format!("{accuracy:.4}"), "0.8928");
    assert_eq!(format!("{auc:.5}"), "0.95335");
}

#[test]
fn logistic_regression_reproduces_river_on_phishing_at_a_higher_rate() {
    let (accuracy, auc) = replay(0.1);
    assert_eq!(format!("{accuracy:.4}"), "0.8896");
    assert_eq!(format!("{auc:.5}"), "0.95780");
}

#[test]
fn auc_ties_count_one_half_and_a_rolling_auc_forgets() {
    let mut auc = RocAuc::default();
    auc.update(0.5, true);
    auc.update(0.5, false);
    assert_eq!(auc.get(), 0.5);
    let mut rolling = RocAuc::rolling(2);
    for (score, positive) in [(0.9, false), (0.1, true), (0.8, true), (0.2, false)] {
        rolling.update(score, positive);
    }
    assert_eq!(rolling.count(), 2);
    assert_eq!(rolling.get(), 1.0);
}

#[test]
fn a_model_round_trips_through_state_encoding() {
    let mut model = LogisticRegression::new(3, 0.1);
    model.learn(&[1.0, -2.0, 0.5], true);
    let bytes = postcard::to_allocvec(&model).unwrap();
    let back: LogisticRegression = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, model);
}

/// Scaler + linear regression on a regression target made from the same file
/// (`age_of_domain * 10 + label`, from the other eight features). The reference is
/// river 0.26.1 (`compose.Pipeline(preprocessing.StandardScaler(),
/// linear_model.LinearRegression())`, progressive validation): MAE 2.990847353692615,
/// second prediction 0.22, last 5.384150786631823.
#[test]
fn linear_regression_reproduces_river() {
    let mut scaler = StandardScaler::new(8);
    let mut model = LinearRegression::new(8, 0.01);
    let mut mae = Mae::default();
    let (mut x, mut scaled) = ([0.0; 8], [0.0; 8]);
    let mut predictions = Vec::new();
    for (features, positive) in rows() {
        // Every feature but `age_of_domain` (column 7).
        let mut at = 0;
        for (column, value) in features.iter().enumerate() {
            if column != 7 {
                x[at] = *value;
                at += 1;
            }
        }
        let y = features[7] * 10.0 + f64::from(u8::from(positive));
        scaler.transform(&x, &mut scaled);
        let prediction = model.predict(&scaled);
        predictions.push(prediction);
        mae.update(prediction, y);
        scaler.learn(&x);
        scaler.transform(&x, &mut scaled);
        model.learn(&scaled, y);
    }
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
    assert!(close(mae.get(), 2.990847353692615), "{}", mae.get());
    assert!(close(predictions[1], 0.22), "{}", predictions[1]);
    assert!(
        close(predictions[1249], 5.384150786631823),
        "{}",
        predictions[1249]
    );
}
