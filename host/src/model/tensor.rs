//! [`ModelTensor`]: a tensor as the `inference` interface carries it — dimensions, an
//! element type and little-endian bytes — and its conversion to and from tract's
//! tensors. Every length here comes from a guest, so every one is checked.

use tract_onnx::prelude::{DatumType, Tensor};

/// The largest tensor a plugin may hand the host or receive from it, in bytes.
pub const MAX_TENSOR_BYTES: usize = 64 << 20;

/// The element types of the `inference` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    F16,
    F32,
    F64,
    Bf16,
    U8,
    I32,
    I64,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElementType::U8 => 1,
            ElementType::F16 | ElementType::Bf16 => 2,
            ElementType::F32 | ElementType::I32 => 4,
            ElementType::F64 | ElementType::I64 => 8,
        }
    }

    /// The interface's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            ElementType::F16 => "fp16",
            ElementType::F32 => "fp32",
            ElementType::F64 => "fp64",
            ElementType::Bf16 => "bf16",
            ElementType::U8 => "u8",
            ElementType::I32 => "i32",
            ElementType::I64 => "i64",
        }
    }

    /// The element type of a tract datum type, if the interface has one.
    pub fn of_datum(datum: DatumType) -> Option<ElementType> {
        Some(match datum {
            DatumType::F16 => ElementType::F16,
            DatumType::F32 => ElementType::F32,
            DatumType::F64 => ElementType::F64,
            DatumType::U8 => ElementType::U8,
            DatumType::I32 => ElementType::I32,
            DatumType::I64 => ElementType::I64,
            _ => return None,
        })
    }
}

/// Why a tensor cannot become a tract tensor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TensorError {
    #[error("the tensor's data is {actual} bytes; {dims:?} elements of {ty} need {expected}")]
    Length {
        dims: Vec<u32>,
        ty: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error("a tensor may hold at most {MAX_TENSOR_BYTES} bytes")]
    TooLarge,
    #[error("{0} tensors are not supported by this host")]
    UnsupportedType(&'static str),
}

/// A tensor held by the host for a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTensor {
    pub dims: Vec<u32>,
    pub ty: ElementType,
    pub data: Vec<u8>,
}

impl ModelTensor {
    /// Checks the data's length against the dimensions and type, and makes tract's
    /// tensor (one copy, decoding little-endian elements).
    ///
    /// # Errors
    /// A [`TensorError`] when the lengths disagree, the tensor is too large, or the
    /// type is one tract cannot take.
    pub fn to_tract(&self) -> Result<Tensor, TensorError> {
        let elements = self
            .dims
            .iter()
            .try_fold(1_usize, |product, &dim| product.checked_mul(dim as usize));
        let expected = elements
            .and_then(|count| count.checked_mul(self.ty.size()))
            .filter(|&bytes| bytes <= MAX_TENSOR_BYTES)
            .ok_or(TensorError::TooLarge)?;
        if expected != self.data.len() {
            return Err(TensorError::Length {
                dims: self.dims.clone(),
                ty: self.ty.name(),
                expected,
                actual: self.data.len(),
            });
        }
        let shape: Vec<usize> = self.dims.iter().map(|&dim| dim as usize).collect();
        let bytes = &self.data;
        let tensor = match self.ty {
            ElementType::F32 => Tensor::from_shape(&shape, &decode(bytes, f32::from_le_bytes)),
            ElementType::F64 => Tensor::from_shape(&shape, &decode(bytes, f64::from_le_bytes)),
            ElementType::I32 => Tensor::from_shape(&shape, &decode(bytes, i32::from_le_bytes)),
            ElementType::I64 => Tensor::from_shape(&shape, &decode(bytes, i64::from_le_bytes)),
            ElementType::U8 => Tensor::from_shape(&shape, bytes),
            ElementType::F16 | ElementType::Bf16 => {
                return Err(TensorError::UnsupportedType(self.ty.name()));
            }
        };
        // The length was checked above, so the shape always fits.
        tensor.map_err(|_| TensorError::TooLarge)
    }

    /// The tensor of a model output.
    ///
    /// # Errors
    /// [`TensorError::UnsupportedType`] for outputs the interface has no type for
    /// (strings, booleans...); [`TensorError::TooLarge`] past the size limit.
    pub fn from_tract(tensor: &Tensor) -> Result<ModelTensor, TensorError> {
        let ty = ElementType::of_datum(tensor.datum_type())
            .ok_or(TensorError::UnsupportedType("non-numeric"))?;
        let dims = tensor
            .shape()
            .iter()
            .map(|&dim| u32::try_from(dim).map_err(|_| TensorError::TooLarge))
            .collect::<Result<Vec<u32>, _>>()?;
        let data = tensor.as_bytes();
        if data.len() > MAX_TENSOR_BYTES {
            return Err(TensorError::TooLarge);
        }
        // tract keeps elements in the machine's order; the interface's is little-endian,
        // which every target Weir builds for is.
        Ok(ModelTensor {
            dims,
            ty,
            data: data.to_vec(),
        })
    }
}

fn decode<const N: usize, T>(bytes: &[u8], from_le: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|chunk| {
            let mut array = [0; N];
            array.copy_from_slice(chunk);
            from_le(array)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn f32_tensor(dims: Vec<u32>, values: &[f32]) -> ModelTensor {
        ModelTensor {
            dims,
            ty: ElementType::F32,
            data: values
                .iter()
                .flat_map(|value| value.to_le_bytes())
                .collect(),
        }
    }

    #[test]
    fn round_trips_through_tract() {
        let tensor = f32_tensor(vec![2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let tract = tensor.to_tract().unwrap();
        assert_eq!(tract.shape(), &[2, 3]);
        assert_eq!(ModelTensor::from_tract(&tract).unwrap(), tensor);
    }

    #[test]
    fn refuses_data_of_the_wrong_length_and_huge_dimensions() {
        let short = f32_tensor(vec![2, 3], &[1.0; 5]);
        assert!(matches!(
            short.to_tract(),
            Err(TensorError::Length {
                expected: 24,
                actual: 20,
                ..
            })
        ));
        let huge = f32_tensor(vec![u32::MAX, u32::MAX, u32::MAX], &[]);
        assert_eq!(huge.to_tract(), Err(TensorError::TooLarge));
    }
}
