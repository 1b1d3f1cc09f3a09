//! [`Plugin`]: a component loaded, checked against its world and ready to make
//! instances from — the unit the runtime deploys.
//!
//! Loading does every check that can fail before a single event flows: the file is a
//! component (not garbage, not a core module), it compiles (or is in the cache), every
//! import is satisfiable, it exports the world's interface, and one instance starts:
//! `describe` answers and `init` accepts the operator's settings. A plugin that fails
//! any of these is refused with a [`PluginError`] naming the operator and the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};

use super::bindings::{GuestPluginInfo, keyed, weir};
use super::cache::{CacheOutcome, ComponentCache, content_hash};
use super::engine::WasmEngine;
use super::error::PluginError;
use super::exports::KindPre;
use super::instance::PluginInstance;
use super::kind::PluginKind;
use super::limits::DEFAULT_MEMORY_LIMIT;
use super::store::HostCtx;
use crate::model::ModelGrants;

/// Default time one call (one batch) may run before the instance is interrupted.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(1);

/// The limits an operator's instances run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// Linear memory an instance may grow to.
    pub memory_bytes: usize,
    /// Wall time one call may take.
    pub deadline: Duration,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            memory_bytes: DEFAULT_MEMORY_LIMIT,
            deadline: DEFAULT_DEADLINE,
        }
    }
}

/// What to load, for which operator, with which settings.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    /// Name of the operator in the pipeline: used in every log record and error.
    pub operator: String,
    pub path: PathBuf,
    /// The operator's settings as a JSON object, handed to the plugin's `init`.
    pub settings_json: String,
    pub limits: PluginLimits,
}

/// What a plugin says about itself, plus the content hash of its component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginIdentity {
    pub name: String,
    pub version: String,
    /// SHA-256 of the component file, hex.
    pub content_hash: String,
    /// Named outputs the plugin may emit to besides `main`.
    pub outputs: Vec<String>,
}

impl std::fmt::Display for PluginIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}+{}",
            self.name,
            self.version,
            &self.content_hash[..12]
        )
    }
}

/// Loads plugins into one engine with one linker (built once, shared by all).
#[derive(Clone)]
pub struct PluginLoader {
    engine: WasmEngine,
    linker: Arc<Linker<HostCtx>>,
    cache: ComponentCache,
}

impl std::fmt::Debug for PluginLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginLoader")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl PluginLoader {
    /// A loader whose linker provides WASI (nothing granted) and every host interface
    /// of the operator worlds: log, metrics, state and timers.
    ///
    /// # Errors
    /// If the engine cannot be created or the host's own interfaces do not link.
    pub fn new(cache: ComponentCache) -> wasmtime::Result<Self> {
        Self::with_engine(WasmEngine::new()?, cache)
    }

    /// A loader on a given engine (for measuring engine configurations).
    ///
    /// # Errors
    /// If the host's own interfaces do not link.
    pub fn with_engine(engine: WasmEngine, cache: ComponentCache) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(engine.engine());
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // Interface by interface: the worlds share them, and a world's own
        // `add_to_linker` would define the shared ones twice.
        weir::operator::log::add_to_linker::<HostCtx, HasSelf<HostCtx>>(&mut linker, |ctx| ctx)?;
        weir::operator::metrics::add_to_linker::<HostCtx, HasSelf<HostCtx>>(&mut linker, |ctx| {
            ctx
        })?;
        keyed::weir::operator::state::add_to_linker::<HostCtx, HasSelf<HostCtx>>(
            &mut linker,
            |ctx| ctx,
        )?;
        keyed::weir::operator::timers::add_to_linker::<HostCtx, HasSelf<HostCtx>>(
            &mut linker,
            |ctx| ctx,
        )?;
        weir::operator::inference::add_to_linker::<HostCtx, HasSelf<HostCtx>>(
            &mut linker,
            |ctx| ctx,
        )?;
        Ok(PluginLoader {
            engine,
            linker: Arc::new(linker),
            cache,
        })
    }

    pub fn engine(&self) -> &WasmEngine {
        &self.engine
    }

    /// Loads, checks and starts the plugin of `spec`; see the module docs.
    ///
    /// # Errors
    /// A [`PluginError`] for the first check that fails.
    pub fn load(&self, spec: PluginSpec) -> Result<Plugin, PluginError> {
        self.load_with_models(spec, ModelGrants::none())
    }

    /// As [`PluginLoader::load`], with the models the operator is granted: its
    /// instances can load these, by name, through the `inference` interface, and no
    /// others.
    ///
    /// # Errors
    /// A [`PluginError`] for the first check that fails.
    pub fn load_with_models(
        &self,
        spec: PluginSpec,
        models: ModelGrants,
    ) -> Result<Plugin, PluginError> {
        let bytes = std::fs::read(&spec.path).map_err(|source| PluginError::Read {
            operator: spec.operator.clone(),
            path: spec.path.clone(),
            source,
        })?;
        self.load_checked(spec, &bytes, None, models)
    }

    /// As [`PluginLoader::load`], with the component's bytes already in hand.
    ///
    /// # Errors
    /// A [`PluginError`] for the first check that fails.
    pub fn load_bytes(&self, spec: PluginSpec, bytes: &[u8]) -> Result<Plugin, PluginError> {
        self.load_checked(spec, bytes, None, ModelGrants::none())
    }

    /// As [`PluginLoader::load_bytes`], refusing a component of another world than
    /// `expected` before it starts (a new version of an operator's plugin, which keeps
    /// the operator's model grants).
    ///
    /// # Errors
    /// A [`PluginError`] for the first check that fails.
    pub fn load_bytes_as(
        &self,
        spec: PluginSpec,
        bytes: &[u8],
        expected: PluginKind,
        models: ModelGrants,
    ) -> Result<Plugin, PluginError> {
        self.load_checked(spec, bytes, Some(expected), models)
    }

    fn load_checked(
        &self,
        spec: PluginSpec,
        bytes: &[u8],
        expected: Option<PluginKind>,
        models: ModelGrants,
    ) -> Result<Plugin, PluginError> {
        check_component_header(bytes).map_err(|reason| PluginError::NotAComponent {
            operator: spec.operator.clone(),
            path: spec.path.clone(),
            reason: reason.to_owned(),
        })?;
        let (component, cache_outcome) =
            self.cache
                .load(self.engine.engine(), bytes)
                .map_err(|error| PluginError::Compile {
                    operator: spec.operator.clone(),
                    path: spec.path.clone(),
                    message: format!("{error:#}"),
                })?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|error| {
            PluginError::MissingImport {
                operator: spec.operator.clone(),
                path: spec.path.clone(),
                message: format!("{error:#}"),
            }
        })?;
        let wrong_world = |world: String, message: String| PluginError::WrongWorld {
            operator: spec.operator.clone(),
            path: spec.path.clone(),
            world,
            message,
        };
        let kind = PluginKind::of(&component, self.engine.engine())
            .map_err(|message| wrong_world("any Weir operator".into(), message))?;
        if let Some(expected) = expected.filter(|expected| *expected != kind) {
            return Err(wrong_world(
                expected.world().into(),
                format!(
                    "the operator runs a {expected} plugin; this component is a {kind} plugin (world {})",
                    kind.world()
                ),
            ));
        }
        let pre = KindPre::new(kind, instance_pre)
            .map_err(|error| wrong_world(kind.world().into(), format!("{error:#}")))?;
        let mut plugin = Plugin {
            inner: Arc::new(PluginInner {
                pre,
                engine: self.engine.clone(),
                identity: PluginIdentity {
                    name: String::new(),
                    version: String::new(),
                    content_hash: content_hash(bytes),
                    outputs: Vec::new(),
                },
                spec,
                models,
                cache_outcome,
            }),
        };
        // Start one instance now: `describe` and `init` failures refuse the plugin here,
        // before any event flows, rather than on the first batch.
        let (_, info) = plugin.start_instance(0)?;
        let inner = Arc::get_mut(&mut plugin.inner).expect("no instance keeps the plugin");
        inner.identity.name = info.name;
        inner.identity.version = info.version;
        inner.identity.outputs = info.outputs;
        Ok(plugin)
    }
}

/// A loaded, checked plugin for one operator. Cheap to clone; each subtask of the
/// operator makes its own [`PluginInstance`] from it.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

struct PluginInner {
    pre: KindPre,
    engine: WasmEngine,
    identity: PluginIdentity,
    spec: PluginSpec,
    /// The models the operator is granted (none unless the pipeline grants some).
    models: ModelGrants,
    cache_outcome: CacheOutcome,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("identity", &self.inner.identity)
            .field("spec", &self.inner.spec)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// The world the plugin implements.
    pub fn kind(&self) -> PluginKind {
        self.inner.pre.kind()
    }

    pub fn identity(&self) -> &PluginIdentity {
        &self.inner.identity
    }

    pub fn spec(&self) -> &PluginSpec {
        &self.inner.spec
    }

    pub fn path(&self) -> &Path {
        &self.inner.spec.path
    }

    /// The models the operator's instances may load.
    pub fn models(&self) -> &ModelGrants {
        &self.inner.models
    }

    /// Whether loading compiled the component or took it from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.inner.cache_outcome
    }

    /// A fresh, initialised instance for subtask `subtask`.
    ///
    /// # Errors
    /// [`PluginError::Init`] when instantiation, `describe` or `init` fails.
    pub fn instantiate(&self, subtask: usize) -> Result<PluginInstance, PluginError> {
        self.start_instance(subtask).map(|(instance, _)| instance)
    }

    fn start_instance(
        &self,
        subtask: usize,
    ) -> Result<(PluginInstance, GuestPluginInfo), PluginError> {
        let inner = &self.inner;
        let init_error = |message: String| PluginError::Init {
            operator: inner.spec.operator.clone(),
            plugin: if inner.identity.name.is_empty() {
                inner.spec.path.display().to_string()
            } else {
                inner.identity.to_string()
            },
            path: inner.spec.path.clone(),
            message,
        };
        let seed = instance_seed(&inner.spec.operator, subtask);
        let mut instance = PluginInstance::new(
            &inner.pre,
            &inner.engine,
            &inner.spec,
            seed,
            inner.models.clone(),
        )
        .map_err(|error| init_error(format!("cannot instantiate: {error:#}")))?;
        let info = instance
            .describe()
            .map_err(|error| init_error(format!("`describe` failed: {error}")))?;
        instance
            .init(&inner.spec.settings_json)
            .map_err(|error| init_error(format!("`init` refused the settings: {error}")))?;
        Ok((instance, info))
    }
}

/// A seed for an instance's WASI randomness, stable for a given operator and subtask.
fn instance_seed(operator: &str, subtask: usize) -> u64 {
    operator
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
        .wrapping_add(subtask as u64)
}

/// Tells garbage, core modules and components apart by their header, for a clear
/// message (wasmtime's own is about binary encoding).
fn check_component_header(bytes: &[u8]) -> Result<(), &'static str> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_VERSION: [u8; 4] = [1, 0, 0, 0];
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err("the file does not start with the WebAssembly magic number");
    }
    if bytes[4..8] == CORE_VERSION {
        return Err(
            "it is a core Wasm module; build the plugin with `--target wasm32-wasip2` \
             (or wrap it with `wasm-tools component new`)",
        );
    }
    Ok(())
}
