//! [`ModelError`]: why a model file could not be loaded, naming the file and, for an
//! operation the host cannot run, the operation and what to do instead.

use std::path::PathBuf;

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model {} is not an ONNX model: {message}", path.display())]
    NotOnnx { path: PathBuf, message: String },
    #[error(
        "model {} uses the ONNX operation `{op}` (node `{node}`), which this host (tract-onnx 0.23) cannot run: {advice}",
        path.display()
    )]
    Unsupported {
        path: PathBuf,
        op: String,
        node: String,
        advice: String,
    },
    #[error("model {} cannot be prepared to run: {message}", path.display())]
    Prepare { path: PathBuf, message: String },
}
