//! The `models` table of an operator: which ONNX files its plugin may load, by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Longest model name.
const MAX_NAME: usize = 64;

/// Checks the names of an operator's model grants and resolves their paths against
/// `base` (the pipeline file's folder). Models need a plugin to load them.
///
/// # Errors
/// A message naming the operator and the grant at fault.
pub(super) fn check_grants(
    operator: &str,
    models: &BTreeMap<String, PathBuf>,
    has_plugin: bool,
    base: &Path,
) -> Result<BTreeMap<String, PathBuf>, String> {
    if !models.is_empty() && !has_plugin {
        return Err(format!(
            "operator `{operator}`: `models` are granted to a plugin; this operator has none"
        ));
    }
    models
        .iter()
        .map(|(name, path)| {
            let valid = !name.is_empty()
                && name.len() <= MAX_NAME
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
            if !valid {
                return Err(format!(
                    "operator `{operator}`: model name {name:?}: expected 1 to {MAX_NAME} letters, digits, `_` or `-`"
                ));
            }
            if path.extension().is_none_or(|extension| extension != "onnx") {
                return Err(format!(
                    "operator `{operator}`: model `{name}` = {:?}: expected an ONNX file (`.onnx`)",
                    path.display().to_string()
                ));
            }
            Ok((name.clone(), base.join(path)))
        })
        .collect()
}
