//! Host side of `weir:operator/inference` (`wit/inference.wit`): tensors, graphs and
//! execution contexts are host values in the instance's resource table; `load-by-name`
//! finds only the models granted to the instance's operator ([`ModelGrants`]).
//!
//! Every handle, length and name here comes from the guest: handles are looked up in
//! the table (a stale one traps, as any bad handle does), tensor lengths are checked
//! against their dimensions before tract sees them, and an instance holds at most
//! [`MAX_LIVE_RESOURCES`] inference values at once (one more traps: that is a leak).

use std::sync::Arc;

use wasmtime::component::Resource;

use super::bindings::weir::operator::inference::{
    Error as InferenceError, ErrorCode, Host, HostGraph, HostGraphExecutionContext, HostTensor,
    TensorType,
};
use super::store::HostCtx;
use crate::model::tensor::TensorError;
use crate::model::{ElementType, ModelGrants, ModelTensor, OnnxModel, onnx::ModelSession};

/// Most tensors, graphs and contexts one instance may hold at once.
pub const MAX_LIVE_RESOURCES: usize = 4096;

/// What an instance's inference calls may reach: its operator's grants.
#[derive(Debug, Default)]
pub struct InferenceCtx {
    grants: ModelGrants,
    live: usize,
}

impl InferenceCtx {
    pub fn new(grants: ModelGrants) -> Self {
        InferenceCtx { grants, live: 0 }
    }
}

/// A `graph` resource: one granted model.
#[derive(Debug)]
pub struct GraphHandle {
    name: String,
    model: Arc<OnnxModel>,
}

/// A `graph-execution-context` resource: a model and tract's state for running it.
#[derive(Debug)]
pub struct ExecutionContext {
    name: String,
    model: Arc<OnnxModel>,
    session: ModelSession,
}

fn error(code: ErrorCode, message: impl Into<String>) -> InferenceError {
    InferenceError {
        code,
        message: message.into(),
    }
}

impl HostCtx {
    fn push_inference<T: Send + 'static>(&mut self, value: T) -> wasmtime::Result<Resource<T>> {
        if self.inference.live >= MAX_LIVE_RESOURCES {
            wasmtime::bail!(
                "the plugin holds {MAX_LIVE_RESOURCES} inference tensors, graphs and contexts \
                 at once; drop those it no longer uses"
            );
        }
        self.inference.live += 1;
        Ok(self.table.push(value)?)
    }

    fn delete_inference<T: 'static>(&mut self, handle: Resource<T>) -> wasmtime::Result<T> {
        let value = self.table.delete(handle)?;
        self.inference.live = self.inference.live.saturating_sub(1);
        Ok(value)
    }

    /// Runs `context` on `inputs`; the outputs, by name, in the model's order.
    fn compute_outputs(
        &mut self,
        context: &Resource<ExecutionContext>,
        mut inputs: Vec<(String, ModelTensor)>,
    ) -> wasmtime::Result<Result<Vec<(String, ModelTensor)>, InferenceError>> {
        let context = self.table.get_mut(context)?;
        let model = &context.model;
        let mut tensors = Vec::with_capacity(model.inputs().len());
        for input in model.inputs() {
            let Some(position) = inputs.iter().position(|(name, _)| *name == input.name) else {
                return Ok(Err(error(
                    ErrorCode::InvalidArgument,
                    format!(
                        "model `{}` has an input `{}` and no tensor of that name was given (its inputs: {:?})",
                        context.name,
                        input.name,
                        model
                            .inputs()
                            .iter()
                            .map(|input| &input.name)
                            .collect::<Vec<_>>()
                    ),
                )));
            };
            let (_, tensor) = inputs.swap_remove(position);
            let wanted = ElementType::of_datum(input.datum);
            if wanted != Some(tensor.ty) {
                return Ok(Err(error(
                    ErrorCode::InvalidArgument,
                    format!(
                        "input `{}` of model `{}` takes {:?} elements, not {}",
                        input.name,
                        context.name,
                        input.datum,
                        tensor.ty.name()
                    ),
                )));
            }
            match tensor.to_tract() {
                Ok(tract) => tensors.push(tract),
                Err(why) => return Ok(Err(tensor_error(&input.name, &why))),
            }
        }
        if let Some((name, _)) = inputs.first() {
            return Ok(Err(error(
                ErrorCode::InvalidArgument,
                format!("model `{}` has no input `{name}`", context.name),
            )));
        }
        let outputs = match context.session.run(tensors) {
            Ok(outputs) => outputs,
            Err(message) => {
                return Ok(Err(error(
                    ErrorCode::RuntimeError,
                    format!("model `{}`: {message}", context.name),
                )));
            }
        };
        let mut named = Vec::with_capacity(outputs.len());
        for (value, name) in outputs.iter().zip(model.outputs()) {
            match ModelTensor::from_tract(value) {
                Ok(tensor) => named.push((name.clone(), tensor)),
                Err(why) => return Ok(Err(tensor_error(name, &why))),
            }
        }
        Ok(Ok(named))
    }
}

fn tensor_error(name: &str, why: &TensorError) -> InferenceError {
    let code = match why {
        TensorError::Length { .. } => ErrorCode::InvalidArgument,
        TensorError::TooLarge => ErrorCode::TooLarge,
        TensorError::UnsupportedType(_) => ErrorCode::UnsupportedOperation,
    };
    error(code, format!("tensor `{name}`: {why}"))
}

fn element_type(ty: TensorType) -> ElementType {
    match ty {
        TensorType::Fp16 => ElementType::F16,
        TensorType::Fp32 => ElementType::F32,
        TensorType::Fp64 => ElementType::F64,
        TensorType::Bf16 => ElementType::Bf16,
        TensorType::U8 => ElementType::U8,
        TensorType::I32 => ElementType::I32,
        TensorType::I64 => ElementType::I64,
    }
}

fn tensor_type(ty: ElementType) -> TensorType {
    match ty {
        ElementType::F16 => TensorType::Fp16,
        ElementType::F32 => TensorType::Fp32,
        ElementType::F64 => TensorType::Fp64,
        ElementType::Bf16 => TensorType::Bf16,
        ElementType::U8 => TensorType::U8,
        ElementType::I32 => TensorType::I32,
        ElementType::I64 => TensorType::I64,
    }
}

impl Host for HostCtx {
    fn load_by_name(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<GraphHandle>, InferenceError>> {
        let Some(model) = self.inference.grants.get(&name).cloned() else {
            let granted = self.inference.grants.names().join(", ");
            return Ok(Err(error(
                ErrorCode::NotFound,
                format!(
                    "no model `{}` is granted to operator `{}` (granted: {}); grant it in the pipeline file: models = {{ {} = \"path/to/model.onnx\" }}",
                    name.chars().take(128).collect::<String>(),
                    self.operator,
                    if granted.is_empty() { "none" } else { &granted },
                    name.chars().take(128).collect::<String>(),
                ),
            )));
        };
        Ok(Ok(self.push_inference(GraphHandle { name, model })?))
    }
}

impl HostTensor for HostCtx {
    fn new(
        &mut self,
        dimensions: Vec<u32>,
        ty: TensorType,
        data: Vec<u8>,
    ) -> wasmtime::Result<Resource<ModelTensor>> {
        self.push_inference(ModelTensor {
            dims: dimensions,
            ty: element_type(ty),
            data,
        })
    }

    fn dimensions(&mut self, tensor: Resource<ModelTensor>) -> wasmtime::Result<Vec<u32>> {
        Ok(self.table.get(&tensor)?.dims.clone())
    }

    fn ty(&mut self, tensor: Resource<ModelTensor>) -> wasmtime::Result<TensorType> {
        Ok(tensor_type(self.table.get(&tensor)?.ty))
    }

    fn data(&mut self, tensor: Resource<ModelTensor>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.table.get(&tensor)?.data.clone())
    }

    fn drop(&mut self, tensor: Resource<ModelTensor>) -> wasmtime::Result<()> {
        self.delete_inference(tensor).map(|_| ())
    }
}

impl HostGraph for HostCtx {
    fn init_execution_context(
        &mut self,
        graph: Resource<GraphHandle>,
    ) -> wasmtime::Result<Result<Resource<ExecutionContext>, InferenceError>> {
        let handle = self.table.get(&graph)?;
        let (name, model) = (handle.name.clone(), Arc::clone(&handle.model));
        let session = match model.session() {
            Ok(session) => session,
            Err(message) => return Ok(Err(error(ErrorCode::RuntimeError, message))),
        };
        Ok(Ok(self.push_inference(ExecutionContext {
            name,
            model,
            session,
        })?))
    }

    fn input_names(&mut self, graph: Resource<GraphHandle>) -> wasmtime::Result<Vec<String>> {
        let model = &self.table.get(&graph)?.model;
        Ok(model
            .inputs()
            .iter()
            .map(|input| input.name.clone())
            .collect())
    }

    fn output_names(&mut self, graph: Resource<GraphHandle>) -> wasmtime::Result<Vec<String>> {
        Ok(self.table.get(&graph)?.model.outputs().to_vec())
    }

    fn drop(&mut self, graph: Resource<GraphHandle>) -> wasmtime::Result<()> {
        self.delete_inference(graph).map(|_| ())
    }
}

impl HostGraphExecutionContext for HostCtx {
    fn compute(
        &mut self,
        context: Resource<ExecutionContext>,
        inputs: Vec<(String, Resource<ModelTensor>)>,
    ) -> wasmtime::Result<Result<Vec<(String, Resource<ModelTensor>)>, InferenceError>> {
        // The inputs are owned handles: they move to the host and are consumed here.
        let mut tensors = Vec::with_capacity(inputs.len());
        for (name, tensor) in inputs {
            tensors.push((name, self.delete_inference(tensor)?));
        }
        let outputs = match self.compute_outputs(&context, tensors)? {
            Ok(outputs) => outputs,
            Err(error) => return Ok(Err(error)),
        };
        let mut handles = Vec::with_capacity(outputs.len());
        for (name, tensor) in outputs {
            handles.push((name, self.push_inference(tensor)?));
        }
        Ok(Ok(handles))
    }

    fn drop(&mut self, context: Resource<ExecutionContext>) -> wasmtime::Result<()> {
        self.delete_inference(context).map(|_| ())
    }
}
