//! The shipped ONNX models run natively, for tests that check what a plugin scored.

use std::path::PathBuf;

use weir_host::model::{ElementType, ModelTensor, OnnxModel};

use super::repo_file;

/// `examples/models/<model>.onnx`.
pub fn model_path(model: &str) -> PathBuf {
    repo_file(&format!("examples/models/{model}.onnx"))
}

/// An `[N, F]` `f32` tensor of `rows`.
pub fn f32_tensor(rows: &[Vec<f32>]) -> ModelTensor {
    ModelTensor {
        dims: vec![rows.len() as u32, rows[0].len() as u32],
        ty: ElementType::F32,
        data: rows
            .iter()
            .flatten()
            .flat_map(|value| value.to_le_bytes())
            .collect(),
    }
}

/// Little-endian `f32`s, widened.
pub fn f32s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(4)
        .map(|chunk| f64::from(f32::from_le_bytes(chunk.try_into().expect("4 bytes"))))
        .collect()
}

/// Runs `model` natively on `rows` and returns its first output's elements.
pub fn run_native(model: &OnnxModel, rows: &[Vec<f32>]) -> Vec<f64> {
    let mut session = model.session().expect("a session");
    let input = f32_tensor(rows).to_tract().expect("a tract tensor");
    let outputs = session.run(vec![input]).expect("the model runs");
    let output = ModelTensor::from_tract(&outputs[0]).expect("a numeric output");
    f32s(&output.data)
}
