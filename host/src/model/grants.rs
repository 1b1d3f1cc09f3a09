//! Which models an operator may load: [`ModelGrants`], built from the pipeline file's
//! `models = { name = "path.onnx" }` of each operator, and [`ModelLibrary`], which loads
//! each file once however many operators are granted it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::error::ModelError;
use super::onnx::OnnxModel;

/// The models granted to one operator, by the name the plugin loads them with. Cheap
/// to clone; a plugin can reach these and no others.
#[derive(Debug, Clone, Default)]
pub struct ModelGrants {
    models: Arc<BTreeMap<String, Arc<OnnxModel>>>,
}

impl ModelGrants {
    /// No models: what an operator without `models` gets.
    pub fn none() -> Self {
        ModelGrants::default()
    }

    /// The grants of `models`, by name.
    pub fn new(models: BTreeMap<String, Arc<OnnxModel>>) -> Self {
        ModelGrants {
            models: Arc::new(models),
        }
    }

    /// The model granted under `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<OnnxModel>> {
        self.models.get(name)
    }

    /// The granted names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.models.keys().map(String::as_str).collect()
    }

    /// `(name, content hash)` of every granted model, sorted by name: the versions of
    /// the models the operator runs.
    pub fn versions(&self) -> Vec<(String, String)> {
        self.models
            .iter()
            .map(|(name, model)| (name.clone(), model.content_hash().to_owned()))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

/// Models loaded so far, by file: a file granted to several operators (or under
/// several names) is read, checked and optimised once, and its plan shared.
#[derive(Debug, Clone, Default)]
pub struct ModelLibrary {
    loaded: Arc<Mutex<HashMap<PathBuf, Arc<OnnxModel>>>>,
}

impl ModelLibrary {
    pub fn new() -> Self {
        ModelLibrary::default()
    }

    /// The model at `path`, loaded now or earlier.
    ///
    /// # Errors
    /// A [`ModelError`] if the file cannot be loaded (see [`OnnxModel::load`]).
    pub fn load(&self, path: &Path) -> Result<Arc<OnnxModel>, ModelError> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        if let Some(model) = self.lock().get(&key) {
            return Ok(Arc::clone(model));
        }
        // Loaded outside the lock: two operators may race to load one file, and the
        // second result is dropped; both then share the first.
        let model = Arc::new(OnnxModel::load(path)?);
        Ok(Arc::clone(self.lock().entry(key).or_insert(model)))
    }

    /// The grants of one operator: every `name = path` loaded.
    ///
    /// # Errors
    /// The first model that cannot be loaded, with the name it was granted under.
    pub fn grants<'a>(
        &self,
        models: impl IntoIterator<Item = (&'a String, &'a PathBuf)>,
    ) -> Result<ModelGrants, (String, ModelError)> {
        let mut granted = BTreeMap::new();
        for (name, path) in models {
            let model = self.load(path).map_err(|error| (name.clone(), error))?;
            granted.insert(name.clone(), model);
        }
        Ok(ModelGrants::new(granted))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<OnnxModel>>> {
        // A panic while holding the lock leaves the map as it was: keep using it.
        self.loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
