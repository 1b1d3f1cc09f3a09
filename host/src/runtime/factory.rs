//! How the subtasks of each kind of operator are made: by the world of its plugin
//! (stateless, keyed process, window aggregate, window process) and its settings
//! (`key_by`, `[operator.window]`), or from built-in window aggregates.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use weir_batch::{Batch, Timestamp};

use super::assemble::AssembleError;
use super::keyed_operator::KeyedWasmOperator;
use super::keyed_store::OperatorState;
use super::operator::{Emitted, Operator, OperatorError};
use super::pipeline::{OperatorFactory, PipelineError};
use super::stats::OperatorStats;
use super::subtask::SubtaskInfo;
use super::wasm_operator::WasmOperator;
use super::wasm_window::{WasmAggregate, WasmWindowProcess};
use crate::checkpoint::Layout;
use crate::config::OperatorConfig;
use crate::plugin::{Plugin, PluginKind};
use crate::state::{BackendKind, open_backend};
use crate::window::LATE_OUTPUT;
use crate::window::builtin::Builtins;
use crate::window::operator::{WindowDurability, WindowOperator};
use crate::window::spec::WindowSpec;

/// Where keyed operators keep live state: the `[state]` backend, with working
/// directories under the pipeline's data directory.
#[derive(Debug, Clone)]
pub struct StateDirs {
    pub backend: BackendKind,
    pub layout: Layout,
}

impl StateDirs {
    /// The working directory of `operator`'s subtask `subtask`.
    pub fn work_dir(&self, operator: &str, subtask: usize) -> std::path::PathBuf {
        self.layout.work_dir(operator, subtask)
    }

    /// Where a window operator's `subtask` keeps its state. A window over a stream
    /// that is not keyed runs as one subtask, which owns every key group.
    fn window_durability(&self, operator: &str, subtask: &SubtaskInfo) -> WindowDurability {
        let key_groups = if subtask.key_groups.is_empty() {
            0..subtask.max_key_groups
        } else {
            subtask.key_groups.clone()
        };
        WindowDurability {
            backend: self.backend,
            work_dir: self.work_dir(operator, subtask.index),
            key_groups,
        }
    }
}

/// What the pipeline needs to know about an operator, and how to make its subtasks.
pub struct BuiltOperator {
    /// `name@version+hash` of the plugin, or `builtin`.
    pub identity: String,
    /// Named outputs the operator may emit to.
    pub outputs: Vec<String>,
    pub factory: OperatorFactory,
}

impl std::fmt::Debug for BuiltOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltOperator")
            .field("identity", &self.identity)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

fn graph_error(operator: &OperatorConfig, message: String) -> AssembleError {
    AssembleError::Pipeline(PipelineError::Graph(format!(
        "operator `{}`: {message}",
        operator.name
    )))
}

fn operator_error(name: &str, message: impl std::fmt::Display) -> OperatorError {
    OperatorError {
        operator: name.to_owned(),
        message: message.to_string(),
    }
}

/// An operator running `plugin`.
///
/// # Errors
/// When the plugin's world does not fit the operator's settings: a keyed process
/// function without `key_by`, a window function without a window, a window around a
/// plugin that is not a window function.
pub fn for_plugin(
    operator: &OperatorConfig,
    plugin: &Plugin,
    state_dir: &StateDirs,
) -> Result<BuiltOperator, AssembleError> {
    let state_dir = state_dir.clone();
    let kind = plugin.kind();
    let mismatch = |message: &str| {
        graph_error(
            operator,
            format!("it runs {} (a {kind} plugin): {message}", plugin.identity()),
        )
    };
    let mut outputs = plugin.identity().outputs.clone();
    let identity = plugin.identity().to_string();
    let plugin = plugin.clone();
    let factory: OperatorFactory = match (kind, operator.window) {
        (PluginKind::Stateless, None) => Box::new(move |subtask, stats| {
            WasmOperator::new(plugin.clone(), subtask.index, stats)
                .map(|operator| Box::new(operator) as Box<dyn Operator>)
        }),
        (PluginKind::KeyedProcess, None) => {
            if operator.key_by.is_none() {
                return Err(mismatch(
                    "a keyed process function needs `key_by` (a field path, or \"$key\")",
                ));
            }
            Box::new(move |subtask, stats| {
                let name = &plugin.spec().operator;
                let work_dir = state_dir.work_dir(name, subtask.index);
                let backend = open_backend(state_dir.backend, &work_dir, None)
                    .map_err(|error| operator_error(name, format!("state: {error}")))?;
                let state = OperatorState::restore(backend, subtask.key_groups.clone())
                    .map_err(|error| operator_error(name, format!("state: {error}")))?;
                KeyedWasmOperator::new(
                    plugin.clone(),
                    subtask.index,
                    subtask.max_key_groups,
                    state,
                    stats,
                )
                .map(|operator| {
                    Box::new(operator.with_backend(state_dir.backend, work_dir))
                        as Box<dyn Operator>
                })
            })
        }
        (PluginKind::WindowAggregate | PluginKind::WindowProcess, None) => {
            return Err(mismatch("a window function needs an `[operator.window]`"));
        }
        (PluginKind::Stateless | PluginKind::KeyedProcess, Some(_)) => {
            return Err(mismatch(
                "`[operator.window]` needs a window function (world `window-aggregate` or `window-process`) or `aggregate = [...]`",
            ));
        }
        (PluginKind::WindowAggregate, Some(spec)) => {
            outputs.push(LATE_OUTPUT.to_owned());
            let identity = identity.clone();
            Box::new(move |subtask, stats| {
                let name = plugin.spec().operator.clone();
                let function = WasmAggregate::new(plugin.clone(), subtask.index, stats.clone())
                    .map_err(|error| operator_error(&name, error))?;
                let window =
                    WindowOperator::aggregate(&name, spec, Box::new(function), identity.clone())
                        .map_err(|error| operator_error(&name, error))?
                        .with_max_key_groups(subtask.max_key_groups)
                        .with_durability(state_dir.window_durability(&name, &subtask))
                        .map_err(|error| operator_error(&name, error))?;
                Ok(Box::new(Counted::new(window, stats)) as Box<dyn Operator>)
            })
        }
        (PluginKind::WindowProcess, Some(spec)) => {
            outputs.push(LATE_OUTPUT.to_owned());
            let identity = identity.clone();
            Box::new(move |subtask, stats| {
                let name = plugin.spec().operator.clone();
                let function = WasmWindowProcess::new(plugin.clone(), subtask.index, stats.clone())
                    .map_err(|error| operator_error(&name, error))?;
                let window =
                    WindowOperator::process(&name, spec, Box::new(function), identity.clone())
                        .map_err(|error| operator_error(&name, error))?
                        .with_max_key_groups(subtask.max_key_groups)
                        .with_durability(state_dir.window_durability(&name, &subtask))
                        .map_err(|error| operator_error(&name, error))?;
                Ok(Box::new(Counted::new(window, stats)) as Box<dyn Operator>)
            })
        }
    };
    Ok(BuiltOperator {
        identity,
        outputs,
        factory,
    })
}

/// A window operator computing host-native aggregates.
///
/// # Errors
/// When the aggregates or the window do not parse (the config checked both already).
pub fn for_builtins(
    operator: &OperatorConfig,
    aggregates: &[String],
    state_dir: &StateDirs,
) -> Result<BuiltOperator, AssembleError> {
    let state_dir = state_dir.clone();
    let spec: WindowSpec = operator.window.ok_or_else(|| {
        graph_error(
            operator,
            "built-in aggregates need an `[operator.window]`".into(),
        )
    })?;
    let list = aggregates.join(", ");
    Builtins::parse(&list).map_err(|why| graph_error(operator, format!("`aggregate`: {why}")))?;
    let name = operator.name.clone();
    Ok(BuiltOperator {
        identity: "builtin".into(),
        outputs: vec![LATE_OUTPUT.to_owned()],
        factory: Box::new(move |subtask, stats| {
            let builtins = Builtins::parse(&list).map_err(|error| operator_error(&name, error))?;
            let window = WindowOperator::builtin(&name, spec, builtins)
                .map_err(|error| operator_error(&name, error))?
                .with_max_key_groups(subtask.max_key_groups)
                .with_durability(state_dir.window_durability(&name, &subtask))
                .map_err(|error| operator_error(&name, error))?;
            Ok(Box::new(Counted::new(window, stats)) as Box<dyn Operator>)
        }),
    })
}

/// Keeps an operator's statistics (events in and out, batches, busy time, dead
/// letters) for operators that do not keep them themselves.
#[derive(Debug)]
pub struct Counted<O> {
    inner: O,
    stats: Arc<OperatorStats>,
}

impl<O: Operator> Counted<O> {
    pub fn new(inner: O, stats: Arc<OperatorStats>) -> Self {
        Counted { inner, stats }
    }

    fn count<R>(&mut self, out: &mut Emitted, step: impl FnOnce(&mut O, &mut Emitted) -> R) -> R {
        let started = Instant::now();
        let (main, dead) = (out.main.len(), out.dead_letters.len());
        let result = step(&mut self.inner, out);
        self.stats
            .events_out
            .fetch_add(out.main.len().saturating_sub(main) as u64, Relaxed);
        self.stats
            .dead_lettered
            .fetch_add(out.dead_letters.len().saturating_sub(dead) as u64, Relaxed);
        self.stats.record_batch(started.elapsed());
        result
    }
}

impl<O: Operator> Operator for Counted<O> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        self.stats.events_in.fetch_add(batch.len() as u64, Relaxed);
        self.stats.batches.fetch_add(1, Relaxed);
        self.count(out, |inner, out| inner.process(batch, out))
    }

    fn on_watermark(
        &mut self,
        watermark: Timestamp,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        self.count(out, |inner, out| inner.on_watermark(watermark, out))
    }

    fn on_processing_time(&mut self, now_ms: i64, out: &mut Emitted) -> Result<(), OperatorError> {
        self.count(out, |inner, out| inner.on_processing_time(now_ms, out))
    }

    fn on_end(&mut self, out: &mut Emitted) -> Result<(), OperatorError> {
        self.count(out, |inner, out| inner.on_end(out))
    }

    fn snapshot(
        &mut self,
        dir: &std::path::Path,
    ) -> Result<Option<super::operator::OperatorSnapshot>, OperatorError> {
        self.inner.snapshot(dir)
    }

    fn snapshot_async(
        &mut self,
        dir: &std::path::Path,
    ) -> Result<
        (
            Option<super::operator::OperatorSnapshot>,
            Option<super::operator::SnapshotWait>,
        ),
        OperatorError,
    > {
        self.inner.snapshot_async(dir)
    }

    fn restore(&mut self, dir: &std::path::Path) -> Result<(), OperatorError> {
        self.inner.restore(dir)
    }

    fn swap_plugin(&mut self, plugin: &Plugin) -> Result<(), OperatorError> {
        self.inner.swap_plugin(plugin)
    }
}
