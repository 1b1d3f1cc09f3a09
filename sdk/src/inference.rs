//! Models the pipeline grants to the operator, run by the host (`wit/inference.wit`,
//! shaped like wasi-nn).
//!
//! The pipeline file grants models by name (`models = { fraud = "models/fraud.onnx" }`
//! in the operator's table); a plugin loads them with [`Model::load`], usually in its
//! `init`/`new`, and runs one call per batch with a `[N, F]` tensor: the host runs tract
//! on the whole batch at once. A name the operator was not granted is an error.
//!
//! ```no_run
//! use weir_sdk::inference::Model;
//!
//! # fn score() -> Result<(), weir_sdk::Error> {
//! let model = Model::load("fraud")?;
//! // Two rows of three features.
//! let rows = [0.1_f32, 0.2, 0.3, 0.4, 0.5, 0.6];
//! let outputs = model.run_f32(&rows, 3)?;
//! let probabilities = outputs.first()?.to_f32()?; // [2, 1]: one per row
//! assert_eq!(probabilities.len(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! A [`Model`] holds host handles only, never the model itself: keeping one in the
//! plugin's struct is a cache the host can rebuild (a fresh instance loads it again).

use crate::Error;
use crate::wit::inference as wit;

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    F16,
    F32,
    F64,
    Bf16,
    U8,
    I32,
    I64,
}

impl TensorType {
    fn to_wit(self) -> wit::TensorType {
        match self {
            TensorType::F16 => wit::TensorType::Fp16,
            TensorType::F32 => wit::TensorType::Fp32,
            TensorType::F64 => wit::TensorType::Fp64,
            TensorType::Bf16 => wit::TensorType::Bf16,
            TensorType::U8 => wit::TensorType::U8,
            TensorType::I32 => wit::TensorType::I32,
            TensorType::I64 => wit::TensorType::I64,
        }
    }

    fn from_wit(ty: wit::TensorType) -> Self {
        match ty {
            wit::TensorType::Fp16 => TensorType::F16,
            wit::TensorType::Fp32 => TensorType::F32,
            wit::TensorType::Fp64 => TensorType::F64,
            wit::TensorType::Bf16 => TensorType::Bf16,
            wit::TensorType::U8 => TensorType::U8,
            wit::TensorType::I32 => TensorType::I32,
            wit::TensorType::I64 => TensorType::I64,
        }
    }
}

/// A tensor's contents: dimensions, element type and little-endian elements.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorData {
    pub dims: Vec<u32>,
    pub ty: TensorType,
    pub data: Vec<u8>,
}

impl TensorData {
    /// A `[rows, columns]` tensor of `f32`, rows one after the other in `values`.
    pub fn f32_rows(values: &[f32], columns: usize) -> Self {
        let rows = values.len().checked_div(columns).unwrap_or(0);
        let mut data = Vec::with_capacity(values.len() * 4);
        for value in values {
            data.extend_from_slice(&value.to_le_bytes());
        }
        TensorData {
            dims: vec![rows as u32, columns as u32],
            ty: TensorType::F32,
            data,
        }
    }

    /// The elements as `f32`, in row-major order.
    ///
    /// # Errors
    /// When the tensor is not `f32`.
    pub fn to_f32(&self) -> Result<Vec<f32>, Error> {
        if self.ty != TensorType::F32 {
            return Err(Error::internal(format!(
                "the tensor holds {:?} elements, not F32",
                self.ty
            )));
        }
        Ok(self
            .data
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect())
    }

    /// The elements as `i64` (class labels), in row-major order.
    ///
    /// # Errors
    /// When the tensor is not `i64`.
    pub fn to_i64(&self) -> Result<Vec<i64>, Error> {
        if self.ty != TensorType::I64 {
            return Err(Error::internal(format!(
                "the tensor holds {:?} elements, not I64",
                self.ty
            )));
        }
        Ok(self
            .data
            .chunks_exact(8)
            .map(|chunk| {
                let mut bytes = [0; 8];
                bytes.copy_from_slice(chunk);
                i64::from_le_bytes(bytes)
            })
            .collect())
    }
}

/// The outputs of one run, by name, in the model's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs(pub Vec<(String, TensorData)>);

impl Outputs {
    /// The output called `name`.
    ///
    /// # Errors
    /// When the model has no such output.
    pub fn get(&self, name: &str) -> Result<&TensorData, Error> {
        self.0
            .iter()
            .find(|(output, _)| output == name)
            .map(|(_, tensor)| tensor)
            .ok_or_else(|| {
                let names: Vec<&str> = self.0.iter().map(|(name, _)| name.as_str()).collect();
                Error::config(format!(
                    "the model has no output `{name}` (outputs: {names:?})"
                ))
            })
    }

    /// The model's first output.
    ///
    /// # Errors
    /// When the model has no output at all.
    pub fn first(&self) -> Result<&TensorData, Error> {
        self.0
            .first()
            .map(|(_, tensor)| tensor)
            .ok_or_else(|| Error::internal("the model returned no output"))
    }
}

/// A model granted to the operator, with a context to run it in.
#[derive(Debug)]
pub struct Model {
    name: String,
    context: wit::GraphExecutionContext,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

fn model_error(name: &str, error: wit::Error) -> Error {
    let message = format!("model `{name}`: {:?}: {}", error.code, error.message);
    match error.code {
        wit::ErrorCode::NotFound | wit::ErrorCode::Security => Error::config(message),
        wit::ErrorCode::InvalidArgument | wit::ErrorCode::TooLarge => Error::invalid_input(message),
        _ => Error::internal(message),
    }
}

impl Model {
    /// Loads the model granted under `name` and makes a context for it.
    ///
    /// # Errors
    /// A configuration error when no such model is granted to the operator.
    pub fn load(name: &str) -> Result<Model, Error> {
        let graph = wit::load_by_name(name).map_err(|error| model_error(name, error))?;
        let context = graph
            .init_execution_context()
            .map_err(|error| model_error(name, error))?;
        Ok(Model {
            name: name.to_owned(),
            inputs: graph.input_names(),
            outputs: graph.output_names(),
            context,
        })
    }

    /// The model's input names, in its order.
    pub fn input_names(&self) -> &[String] {
        &self.inputs
    }

    /// The model's output names, in its order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Runs the model on named inputs: one host call, whatever the batch size.
    ///
    /// # Errors
    /// An invalid-input error when the tensors do not fit the model (name, type,
    /// shape), an internal error when the model fails.
    pub fn compute(&self, inputs: Vec<(String, TensorData)>) -> Result<Outputs, Error> {
        let tensors: Vec<(String, wit::Tensor)> = inputs
            .into_iter()
            .map(|(name, tensor)| {
                let handle = wit::Tensor::new(&tensor.dims, tensor.ty.to_wit(), &tensor.data);
                (name, handle)
            })
            .collect();
        let outputs = self
            .context
            .compute(tensors)
            .map_err(|error| model_error(&self.name, error))?;
        Ok(Outputs(
            outputs
                .into_iter()
                .map(|(name, tensor)| {
                    let data = TensorData {
                        dims: tensor.dimensions(),
                        ty: TensorType::from_wit(tensor.ty()),
                        data: tensor.data(),
                    };
                    (name, data)
                })
                .collect(),
        ))
    }

    /// Runs a model of one input on `[rows, columns]` `f32` features (`values` holds
    /// the rows one after the other).
    ///
    /// # Errors
    /// As [`Model::compute`]; also when the model has several inputs.
    pub fn run_f32(&self, values: &[f32], columns: usize) -> Result<Outputs, Error> {
        self.run(TensorData::f32_rows(values, columns))
    }

    /// Runs a model of one input on `tensor`. Features that arrive as little-endian
    /// `f32`s can go in as they are, with no decoding in the plugin:
    /// `TensorData { dims: vec![rows, columns], ty: TensorType::F32, data: bytes }`.
    ///
    /// # Errors
    /// As [`Model::compute`]; also when the model has several inputs.
    pub fn run(&self, tensor: TensorData) -> Result<Outputs, Error> {
        let [input] = self.inputs.as_slice() else {
            return Err(Error::config(format!(
                "model `{}` has inputs {:?}; give each with `compute`",
                self.name, self.inputs
            )));
        };
        self.compute(vec![(input.clone(), tensor)])
    }
}
