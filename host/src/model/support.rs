//! Which ONNX operations the host runs, and what to do about those it does not.
//!
//! The host runs every operation tract-onnx 0.23 registers: the standard ONNX operator
//! set a scoring model is made of (`MatMul`, `Gemm`, `Add`/`Mul`/..., `Sigmoid`, `Relu`,
//! `Tanh`, `Softmax`, `Conv`, pooling, normalisations, `Reshape`, `Concat`, `Gather`,
//! `Cast`, reductions, recurrent `LSTM`/`GRU`/`RNN`...) and, of the ONNX-ML domain,
//! `LinearClassifier`, `LinearRegressor`, `Normalizer`, `CategoryMapper` and
//! `TreeEnsembleClassifier`. [`supported_ops`] lists them all.
//!
//! Known gaps, refused at load with the advice of [`advice_for`]: `Scaler`, `ZipMap`,
//! `TreeEnsembleRegressor`, `LabelEncoder`, `Imputer`, `OneHotEncoder`,
//! `DictVectorizer`, `ArrayFeatureExtractor`, `SVMClassifier`, `SVMRegressor`,
//! `Binarizer`, `FeatureVectorizer`. Any other operation tract does not register is
//! refused the same way, by name.
//!
//! One caveat that is not a refusal: tract's binary `TreeEnsembleClassifier` gives
//! wrong *labels* (its probabilities are right) — read the probability output and
//! apply the threshold in the plugin.

use tract_onnx::pb::GraphProto;

/// Every ONNX operation type the host can run, sorted.
pub fn supported_ops() -> Vec<String> {
    let mut ops: Vec<String> = tract_onnx::onnx().op_register.0.into_keys().collect();
    ops.sort();
    ops
}

/// What to do instead of an operation the host cannot run.
pub fn advice_for(op: &str) -> &'static str {
    match op {
        "Scaler" => {
            "scale the features in the plugin (weir_sdk::learn::StandardScaler, MinMaxScaler) \
             or fold the scaling into the first Gemm/MatMul; export scikit-learn pipelines \
             without a StandardScaler step"
        }
        "ZipMap" => {
            "export without it: skl2onnx `options={'zipmap': False}` gives the probabilities \
             as a plain [N, classes] tensor"
        }
        "TreeEnsembleRegressor" => {
            "export the trees as a classifier (TreeEnsembleClassifier, read its probabilities) \
             or convert the model to a neural network (e.g. hummingbird) before export"
        }
        "LabelEncoder" | "OneHotEncoder" | "DictVectorizer" | "FeatureVectorizer" => {
            "encode categories in the plugin (weir_sdk::learn::OneHot) and give the model \
             numeric features"
        }
        "Imputer" => "fill missing values in the plugin before building the tensor",
        "Binarizer" => "threshold the features in the plugin",
        "ArrayFeatureExtractor" => {
            "select the output column in the plugin; export without the extractor"
        }
        "SVMClassifier" | "SVMRegressor" => {
            "use a linear model or export the SVM through another converter that emits \
             standard operations"
        }
        _ => {
            "rewrite the model with operations the host runs (see `weir_host::model::support`) \
             or do this step in the plugin"
        }
    }
}

/// The first node of `graph` (or of a graph inside one of its nodes' attributes) whose
/// operation the host cannot run: `(operation, node name)`.
pub fn first_unsupported(
    graph: &GraphProto,
    known: &dyn Fn(&str) -> bool,
) -> Option<(String, String)> {
    for node in &graph.node {
        if !known(&node.op_type) {
            return Some((node.op_type.clone(), node.name.clone()));
        }
        let inner = node
            .attribute
            .iter()
            .flat_map(|attribute| attribute.g.iter().chain(&attribute.graphs));
        for subgraph in inner {
            if let Some(found) = first_unsupported(subgraph, known) {
                return Some(found);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_gaps_are_not_registered_and_the_scoring_ops_are() {
        let ops = supported_ops();
        for gap in ["Scaler", "ZipMap", "TreeEnsembleRegressor", "LabelEncoder"] {
            assert!(!ops.iter().any(|op| op == gap), "{gap} is registered now");
            assert_ne!(advice_for(gap), advice_for("SomethingElse"));
        }
        for op in [
            "MatMul",
            "Gemm",
            "Sigmoid",
            "Relu",
            "Add",
            "TreeEnsembleClassifier",
        ] {
            assert!(ops.iter().any(|known| known == op), "{op} is missing");
        }
    }
}
