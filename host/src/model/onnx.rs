//! [`OnnxModel`]: one ONNX file, checked, optimised and made runnable once; shared (it
//! is immutable) by every execution context that runs it.
//!
//! Loading refuses, before any event flows: a file that is not ONNX, a model with an
//! operation the host cannot run (named, with what to do instead, see
//! [`super::support`]), and one tract cannot type or optimise. Dimensions the file
//! leaves symbolic (`N` rows) stay symbolic, so one plan runs batches of any size.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::prelude::{
    DatumType, Framework, InferenceModelExt, IntoRunnable, TValue, TVec, Tensor, TypedSimplePlan,
    TypedSimpleState,
};

use super::error::ModelError;
use super::support::{advice_for, first_unsupported};

/// One input of a model: its name and element type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInput {
    pub name: String,
    pub datum: DatumType,
}

/// A loaded model, ready to run.
#[derive(Debug)]
pub struct OnnxModel {
    path: PathBuf,
    content_hash: String,
    inputs: Vec<ModelInput>,
    outputs: Vec<String>,
    plan: Arc<TypedSimplePlan>,
}

impl OnnxModel {
    /// Reads, checks and optimises the model at `path`; see the module docs.
    ///
    /// # Errors
    /// A [`ModelError`] naming the file and what is wrong with it.
    pub fn load(path: &Path) -> Result<OnnxModel, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// As [`OnnxModel::load`], with the file's bytes in hand (`path` names it in errors).
    ///
    /// # Errors
    /// As [`OnnxModel::load`].
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<OnnxModel, ModelError> {
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_read(&mut &bytes[..])
            .map_err(|error| ModelError::NotOnnx {
                path: path.to_owned(),
                message: format!("{error:#}"),
            })?;
        let graph = proto.graph.as_ref().ok_or_else(|| ModelError::NotOnnx {
            path: path.to_owned(),
            message: "it has no graph".into(),
        })?;
        let known = |op: &str| onnx.op_register.0.contains_key(op);
        if let Some((op, node)) = first_unsupported(graph, &known) {
            return Err(ModelError::Unsupported {
                path: path.to_owned(),
                advice: advice_for(&op).to_owned(),
                op,
                node,
            });
        }
        let prepare = |error: tract_onnx::prelude::TractError| ModelError::Prepare {
            path: path.to_owned(),
            message: format!("{error:#}"),
        };
        let typed = onnx
            .model_for_proto_model(&proto)
            .and_then(|model| model.into_optimized())
            .map_err(prepare)?;
        let inputs = typed
            .input_outlets()
            .map_err(prepare)?
            .iter()
            .map(|outlet| {
                Ok(ModelInput {
                    name: typed.node(outlet.node).name.clone(),
                    datum: typed.outlet_fact(*outlet)?.datum_type,
                })
            })
            .collect::<Result<Vec<_>, tract_onnx::prelude::TractError>>()
            .map_err(prepare)?;
        let outputs = graph
            .output
            .iter()
            .map(|output| output.name.clone())
            .collect();
        let plan = typed.into_runnable().map_err(prepare)?;
        Ok(OnnxModel {
            path: path.to_owned(),
            content_hash: crate::plugin::cache::content_hash(bytes),
            inputs,
            outputs,
            plan,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 of the file, hex: the model's version.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// The inputs, in the model's order.
    pub fn inputs(&self) -> &[ModelInput] {
        &self.inputs
    }

    /// The names of the outputs, in the model's order.
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    /// A state to run the model in, reused call after call.
    ///
    /// # Errors
    /// If tract cannot make one (it allocates the plan's working memory).
    pub fn session(&self) -> Result<ModelSession, String> {
        self.plan
            .spawn()
            .map(|state| ModelSession { state })
            .map_err(|error| format!("{error:#}"))
    }
}

/// A running context of one model: tract's state, kept between calls.
#[derive(Debug)]
pub struct ModelSession {
    state: TypedSimpleState,
}

impl ModelSession {
    /// Runs the model on `inputs`, in the model's input order.
    ///
    /// # Errors
    /// tract's message when the model fails on these inputs (shapes it cannot take...).
    pub fn run(&mut self, inputs: Vec<Tensor>) -> Result<TVec<TValue>, String> {
        let inputs: TVec<TValue> = inputs.into_iter().map(TValue::from).collect();
        self.state.run(inputs).map_err(|error| format!("{error:#}"))
    }
}
