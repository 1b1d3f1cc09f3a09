//! Models in the stream: ONNX files run by tract, granted to operators by name.
//!
//! - [`onnx`]: one model file, checked against what the host can run, optimised once and
//!   run batched ([`OnnxModel`]);
//! - [`support`]: the ONNX operations the host cannot run, and what to do instead;
//! - [`grants`]: the models each operator may load ([`ModelGrants`]), loaded once per
//!   file and shared by every instance and operator ([`ModelLibrary`]);
//! - [`tensor`]: tensors as the `inference` interface carries them (little-endian bytes)
//!   and their conversion to and from tract's.
//!
//! The plugin side of all this is `plugin/inference.rs`, the host half of the WIT
//! interface `weir:operator/inference` (`wit/inference.wit`).

mod error;
pub mod grants;
pub mod onnx;
pub mod support;
pub mod tensor;

pub use error::ModelError;
pub use grants::{ModelGrants, ModelLibrary};
pub use onnx::{ModelInput, OnnxModel};
pub use tensor::{ElementType, ModelTensor};
