//! [`Harness`]: one operator subtask run by hand — the operator the pipeline would run
//! (made by the same factory, [`crate::runtime::factory::for_plugin`], from a plugin
//! loaded by the same [`PluginLoader`], with the same limits and host interfaces), fed
//! events, watermarks and processing time one step at a time, its outputs recorded.
//!
//! What a step does is what the pipeline's task does on the same message: a batch of
//! events goes through the `key_by` key selector (as upstream of the exchange) and then
//! to [`Operator::process`]; a watermark to [`Operator::on_watermark`] (firing
//! event-time timers and windows); processing time to
//! [`Operator::on_processing_time`] (processing-time timers, early firings), with the
//! clock plugins read set to the same time; the end of the input is a +∞ watermark and
//! [`Operator::on_end`]. Snapshots are [`Operator::snapshot`] and a restore makes a
//! fresh operator and calls [`Operator::restore`] and then replays the last watermark,
//! as a restored source does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir_batch::{Batch, Timestamp};

use super::HarnessError;
use super::outputs::Output;
use crate::checkpoint::Layout;
use crate::config::{OperatorConfig, OperatorFunction};
use crate::plugin::clock::set_manual_processing_time;
use crate::plugin::{ComponentCache, Plugin, PluginKind, PluginLimits, PluginLoader, PluginSpec};
use crate::runtime::factory::{StateDirs, for_plugin};
use crate::runtime::key_selector::{KeyBy, KeySelector};
use crate::runtime::operator::{Emitted, Operator};
use crate::runtime::stats::OperatorStats;
use crate::runtime::subtask::SubtaskInfo;
use crate::state::{BackendKind, DEFAULT_MAX_KEY_GROUPS, KeyGroup};
use crate::window::spec::WindowSpec;

/// The operator name the harness runs its plugin under (in dead letters and logs).
pub const OPERATOR_NAME: &str = "under-test";

/// How to run a component: what a pipeline file says about its operator.
#[derive(Debug, Clone)]
pub struct HarnessConfig {
    /// The component (`.wasm`).
    pub component: PathBuf,
    /// The settings handed to `init`, a JSON object.
    pub settings_json: String,
    /// `key_by`: a field path or `$key`. Keyed process functions default to `$key`.
    pub key_by: Option<String>,
    /// The window of a window function (`[operator.window]`).
    pub window: Option<WindowSpec>,
    pub limits: PluginLimits,
    /// Where keyed state and windows live (memory by default).
    pub backend: BackendKind,
    pub max_key_groups: KeyGroup,
    /// Where compiled components are cached (`None`: the default location, as for
    /// `weir run`).
    pub cache_dir: Option<PathBuf>,
    /// The world the component must implement (`None`: any operator world).
    pub kind: Option<PluginKind>,
}

impl HarnessConfig {
    /// Defaults for `component`: no settings, no key, no window, default limits, the
    /// memory backend, 128 key groups.
    pub fn new(component: impl Into<PathBuf>) -> Self {
        HarnessConfig {
            component: component.into(),
            settings_json: "{}".into(),
            key_by: None,
            window: None,
            limits: PluginLimits::default(),
            backend: BackendKind::Memory,
            max_key_groups: DEFAULT_MAX_KEY_GROUPS,
            cache_dir: None,
            kind: None,
        }
    }
}

/// An event fed to the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputEvent {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    /// Event time, ms.
    pub timestamp: Timestamp,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl InputEvent {
    /// An event without key or headers.
    pub fn new(value: impl Into<Vec<u8>>, timestamp: Timestamp) -> Self {
        InputEvent {
            value: value.into(),
            timestamp,
            ..InputEvent::default()
        }
    }

    /// The same event with key `key`.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.key = Some(key.into());
        self
    }
}

/// What a snapshot holds: the operator's state (if it keeps any) and the harness's
/// clocks, which a restored run resumes from.
#[derive(Debug)]
pub struct Snapshot {
    /// The operator subtask's snapshot directory; `None` if it keeps no state.
    pub dir: Option<PathBuf>,
    pub watermark: Option<Timestamp>,
    pub processing_time: Timestamp,
    /// Keeps the directory alive.
    _scratch: Arc<tempfile::TempDir>,
}

/// A plugin under test; see the module docs.
pub struct Harness {
    config: HarnessConfig,
    loader: PluginLoader,
    plugin: Plugin,
    key_by: Option<KeyBy>,
    selector: Option<KeySelector>,
    operator: Box<dyn Operator>,
    stats: Arc<OperatorStats>,
    scratch: Arc<tempfile::TempDir>,
    /// Operators made so far: each gets its own working directory.
    generation: usize,
    watermark: Option<Timestamp>,
    processing_time: Timestamp,
    outputs: Vec<Output>,
    emitted: Emitted,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("plugin", self.plugin.identity())
            .field("watermark", &self.watermark)
            .field("processing_time", &self.processing_time)
            .field("outputs", &self.outputs.len())
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Loads the component as `weir run` would and makes its operator.
    ///
    /// # Errors
    /// When the component does not load (see [`crate::plugin::PluginError`]) or does
    /// not fit the configuration (e.g. a window function without a window).
    pub fn new(config: HarnessConfig) -> Result<Self, HarnessError> {
        let cache = match &config.cache_dir {
            Some(dir) => ComponentCache::new(dir),
            None => ComponentCache::default_location(),
        };
        let loader =
            PluginLoader::new(cache).map_err(|error| HarnessError::Engine(format!("{error:#}")))?;
        let plugin = load(&loader, &config, &config.component)?;
        if let Some(kind) = config.kind
            && plugin.kind() != kind
        {
            return Err(HarnessError::Plugin(format!(
                "{} implements {}, not {}",
                config.component.display(),
                plugin.kind().world(),
                kind.world()
            )));
        }
        let key_by = match (&config.key_by, plugin.kind()) {
            (Some(text), _) => Some(KeyBy::parse(text).map_err(HarnessError::Config)?),
            (None, PluginKind::KeyedProcess) => Some(KeyBy::EventKey),
            (None, _) => None,
        };
        let scratch = Arc::new(
            tempfile::Builder::new()
                .prefix("weir-harness-")
                .tempdir()
                .map_err(|error| HarnessError::Io(format!("a scratch directory: {error}")))?,
        );
        let stats = Arc::new(OperatorStats::new(
            OPERATOR_NAME,
            &plugin.identity().to_string(),
        ));
        let operator = make_operator(&config, &plugin, &key_by, &scratch, 0, &stats)?;
        let selector = key_by.clone().map(|key_by| {
            KeySelector::new(
                key_by,
                OPERATOR_NAME,
                &plugin.identity().to_string(),
                stats.clone(),
            )
        });
        Ok(Harness {
            config,
            loader,
            plugin,
            key_by,
            selector,
            operator,
            stats,
            scratch,
            generation: 0,
            watermark: None,
            processing_time: 0,
            outputs: Vec::new(),
            emitted: Emitted::default(),
        })
    }

    /// The plugin under test.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    pub fn config(&self) -> &HarnessConfig {
        &self.config
    }

    /// The operator's counters (events, batches, traps, deadlines, plugin counters).
    pub fn stats(&self) -> &OperatorStats {
        &self.stats
    }

    /// The last watermark given.
    pub fn watermark(&self) -> Option<Timestamp> {
        self.watermark
    }

    /// The harness's processing time (starts at 0).
    pub fn processing_time(&self) -> Timestamp {
        self.processing_time
    }

    /// Every record emitted so far, in order: step by step, and within a step the
    /// main output, then named outputs (in the order they were first emitted to),
    /// then dead letters.
    pub fn outputs(&self) -> &[Output] {
        &self.outputs
    }

    /// The records emitted so far to `output` (`main`, `late`, `dead-letter`, or a
    /// named output).
    pub fn outputs_of(&self, output: &str) -> Vec<&Output> {
        self.outputs
            .iter()
            .filter(|record| record.output == output)
            .collect()
    }

    /// Takes the records emitted so far, leaving none.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outputs)
    }

    /// Feeds one batch of events (one call of the plugin, as one batch of a pipeline).
    ///
    /// # Errors
    /// Only for what would stop a pipeline (an instance that cannot be re-made);
    /// plugin faults are contained and show up as dead letters.
    pub fn process(&mut self, events: &[InputEvent]) -> Result<(), HarnessError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::default();
        for event in events {
            batch.push(event.key.as_deref(), &event.value, event.timestamp);
            for (name, value) in &event.headers {
                batch.push_header(name.clone(), value);
            }
        }
        let batch = match &mut self.selector {
            Some(selector) => selector.select(batch, &mut self.emitted.dead_letters),
            None => batch,
        };
        set_manual_processing_time(Some(self.processing_time));
        let result = if batch.is_empty() {
            Ok(())
        } else {
            self.operator.process(batch, &mut self.emitted)
        };
        self.collect();
        result.map_err(HarnessError::from)
    }

    /// Feeds one event.
    ///
    /// # Errors
    /// As for [`Harness::process`].
    pub fn process_one(&mut self, event: InputEvent) -> Result<(), HarnessError> {
        self.process(std::slice::from_ref(&event))
    }

    /// Advances the watermark: due event-time timers and windows fire.
    ///
    /// # Errors
    /// When the watermark would go backwards (it never does in a pipeline), or as for
    /// [`Harness::process`].
    pub fn advance_watermark(&mut self, watermark: Timestamp) -> Result<(), HarnessError> {
        if let Some(current) = self.watermark
            && watermark < current
        {
            return Err(HarnessError::Config(format!(
                "the watermark never goes backwards: it is {current}, not {watermark}"
            )));
        }
        self.watermark = Some(watermark);
        set_manual_processing_time(Some(self.processing_time));
        let result = self.operator.on_watermark(watermark, &mut self.emitted);
        self.collect();
        result.map_err(HarnessError::from)
    }

    /// Moves processing time forward by `by_ms`: due processing-time timers and early
    /// firings fire, and plugins reading the clock see the new time.
    ///
    /// # Errors
    /// As for [`Harness::process`].
    pub fn advance_processing_time(&mut self, by_ms: i64) -> Result<(), HarnessError> {
        self.set_processing_time(self.processing_time.saturating_add(by_ms.max(0)))
    }

    /// Sets processing time to `now_ms` (it never goes backwards: an earlier time is
    /// ignored), then as for [`Harness::advance_processing_time`].
    ///
    /// # Errors
    /// As for [`Harness::process`].
    pub fn set_processing_time(&mut self, now_ms: Timestamp) -> Result<(), HarnessError> {
        self.processing_time = self.processing_time.max(now_ms);
        set_manual_processing_time(Some(self.processing_time));
        let result = self
            .operator
            .on_processing_time(self.processing_time, &mut self.emitted);
        self.collect();
        result.map_err(HarnessError::from)
    }

    /// Ends the input as a bounded source does: a watermark of +∞ (every event-time
    /// timer and window fires), then the operator's end.
    ///
    /// # Errors
    /// As for [`Harness::process`].
    pub fn end_of_input(&mut self) -> Result<(), HarnessError> {
        self.advance_watermark(Timestamp::MAX)?;
        set_manual_processing_time(Some(self.processing_time));
        let result = self.operator.on_end(&mut self.emitted);
        self.collect();
        result.map_err(HarnessError::from)
    }

    /// Takes a snapshot, as a checkpoint does between two messages.
    ///
    /// # Errors
    /// When the operator cannot write its state.
    pub fn snapshot(&mut self) -> Result<Snapshot, HarnessError> {
        let generation = self.next_generation();
        let dir = self.scratch.path().join(format!("snapshot-{generation}"));
        let written = self.operator.snapshot(&dir)?;
        Ok(Snapshot {
            dir: written.map(|_| dir),
            watermark: self.watermark,
            processing_time: self.processing_time,
            _scratch: self.scratch.clone(),
        })
    }

    /// Replaces the operator with a fresh one (a fresh instance too) restored from
    /// `snapshot`, as a restarted pipeline would; the last watermark is then given
    /// again, as a restored source gives its checkpoint's. Outputs are kept.
    ///
    /// # Errors
    /// When the snapshot does not restore.
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<(), HarnessError> {
        let plugin = self.plugin.clone();
        self.replace_operator(plugin, snapshot)
    }

    /// Snapshot, then restore into a fresh operator: what a crash and a restart from
    /// a checkpoint taken here does.
    ///
    /// # Errors
    /// As for [`Harness::snapshot`] and [`Harness::restore`].
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        let snapshot = self.snapshot()?;
        self.restore(&snapshot)
    }

    /// Swaps in another version of the plugin (`component`), keeping the state in the
    /// host: the running operator is snapshotted and the new one restored from it,
    /// with the same settings.
    ///
    /// # Errors
    /// When the new version does not load or its world differs.
    pub fn swap_component(&mut self, component: &Path) -> Result<(), HarnessError> {
        let plugin = load(&self.loader, &self.config, component)?;
        if plugin.kind() != self.plugin.kind() {
            return Err(HarnessError::Config(format!(
                "{} is a {} plugin; the one under test is a {} plugin",
                component.display(),
                plugin.kind(),
                self.plugin.kind()
            )));
        }
        let snapshot = self.snapshot()?;
        self.replace_operator(plugin, &snapshot)?;
        self.config.component = component.to_path_buf();
        Ok(())
    }

    fn replace_operator(
        &mut self,
        plugin: Plugin,
        snapshot: &Snapshot,
    ) -> Result<(), HarnessError> {
        let generation = self.next_generation();
        // The old operator goes first: it may hold its working directory's lock.
        let placeholder = Box::new(Stopped);
        drop(std::mem::replace(&mut self.operator, placeholder));
        let mut operator = make_operator(
            &self.config,
            &plugin,
            &self.key_by,
            &self.scratch,
            generation,
            &self.stats,
        )?;
        if let Some(dir) = &snapshot.dir {
            operator.restore(dir)?;
        }
        self.operator = operator;
        self.plugin = plugin;
        self.processing_time = snapshot.processing_time;
        self.watermark = None;
        if let Some(watermark) = snapshot.watermark {
            self.advance_watermark(watermark)?;
        }
        Ok(())
    }

    fn next_generation(&mut self) -> usize {
        self.generation += 1;
        self.generation
    }

    /// Moves what the operator emitted into the outputs.
    fn collect(&mut self) {
        let emitted = &mut self.emitted;
        self.outputs
            .extend(Output::from_batch(super::outputs::MAIN, &emitted.main));
        emitted.main.clear();
        for (name, batch) in emitted.named.drain(..) {
            self.outputs.extend(Output::from_batch(&name, &batch));
        }
        let identity = self.plugin.identity();
        let stable = format!("{}@{}", identity.name, identity.version);
        let full = identity.to_string();
        self.outputs
            .extend(emitted.dead_letters.drain(..).map(|letter| {
                let mut output = Output::from_dead_letter(letter);
                // The content hash changes with every build: expected files name the
                // plugin by name and version only.
                output.reason = output.reason.map(|reason| reason.replace(&full, &stable));
                output
            }));
    }

    /// The harness's scratch directory (snapshots, working directories).
    pub fn scratch_dir(&self) -> &Path {
        self.scratch.path()
    }

    pub(super) fn key_group_count(&self) -> KeyGroup {
        self.config.max_key_groups
    }
}

/// Loads `component` with the harness's settings and limits.
fn load(
    loader: &PluginLoader,
    config: &HarnessConfig,
    component: &Path,
) -> Result<Plugin, HarnessError> {
    loader
        .load(PluginSpec {
            operator: OPERATOR_NAME.into(),
            path: component.to_path_buf(),
            settings_json: config.settings_json.clone(),
            limits: config.limits,
        })
        .map_err(|error| HarnessError::Plugin(error.to_string()))
}

/// The operator the pipeline would make for `plugin`: subtask 0 of 1, owning every
/// key group, its state under `scratch/work-<generation>`.
fn make_operator(
    config: &HarnessConfig,
    plugin: &Plugin,
    key_by: &Option<KeyBy>,
    scratch: &tempfile::TempDir,
    generation: usize,
    stats: &Arc<OperatorStats>,
) -> Result<Box<dyn Operator>, HarnessError> {
    let operator = OperatorConfig {
        name: OPERATOR_NAME.into(),
        function: OperatorFunction::Plugin(plugin.path().to_path_buf()),
        window: config.window,
        parallelism: 1,
        key_by: key_by.clone(),
        limits: config.limits,
        settings_json: config.settings_json.clone(),
        // The plugin was loaded with its grants already; the factory does not read them.
        models: Default::default(),
    };
    let dirs = StateDirs {
        backend: config.backend,
        layout: Layout::new(
            &scratch.path().join(format!("work-{generation}")),
            "harness",
        ),
    };
    let built = for_plugin(&operator, plugin, &dirs)
        .map_err(|error| HarnessError::Config(error.to_string()))?;
    let subtask = if key_by.is_some() {
        SubtaskInfo::keyed(0, 1, config.max_key_groups)
    } else {
        SubtaskInfo::unkeyed(0, 1, config.max_key_groups)
    };
    Ok((built.factory)(subtask, stats.clone())?)
}

/// Stands in for the operator while it is being replaced.
struct Stopped;

impl Operator for Stopped {
    fn name(&self) -> &str {
        OPERATOR_NAME
    }

    fn process(
        &mut self,
        _batch: Batch,
        _out: &mut Emitted,
    ) -> Result<(), crate::runtime::operator::OperatorError> {
        Err(crate::runtime::operator::OperatorError {
            operator: OPERATOR_NAME.into(),
            message: "the operator could not be replaced".into(),
        })
    }
}
