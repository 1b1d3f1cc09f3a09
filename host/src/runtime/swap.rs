//! Hot swap of an operator's plugin at a barrier: the [`SwapBoard`] of a running
//! pipeline, the [`PluginSwap`] requests posted on it, and the [`SwapTicket`] that says
//! when (and at which barrier) a swap took effect.
//!
//! How a swap travels (the laws the hot-swap tests check):
//! - [`SwapBoard::request`] posts a swap of operator `O` to an already loaded and
//!   checked [`Plugin`] (see `crate::deploy` for validation off the hot path);
//! - the source *arms* every posted swap just before it sends a barrier `n`: at the
//!   next checkpoint barrier in a checkpointed run, or, without checkpoints, at a
//!   barrier it injects between two batches for the swap alone;
//! - each chain subtask, once barrier `n` is aligned over its inputs (and its state
//!   snapshotted, in a checkpointed run), replaces the instance of `O` with one of the
//!   new plugin before it handles anything after the barrier;
//! - so every event before barrier `n` is processed by the old version and every event
//!   after it by the new one, in every subtask: none twice, none skipped. Keyed state
//!   and timers live in the host and stay where they are;
//! - the ticket resolves once every subtask of `O` has switched, with the barrier, the
//!   number of events the source had sent before it, and the longest pause a subtask
//!   spent switching.
//!
//! A subtask that cannot start the new plugin (it passed validation, so this is rare:
//! e.g. memory) keeps the old one and the ticket resolves with the error.
//!
//! ```
//! # use weir_host::runtime::swap::SwapBoard;
//! let board = SwapBoard::new();
//! assert_eq!(board.pending(), 0);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::dead_letter::Origin;
use super::operator::OperatorError;
use super::stats::PipelineStats;
use crate::plugin::{Plugin, PluginInstance};

/// What a swap did once every subtask of its operator had switched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapApplied {
    /// The barrier after which the new version runs.
    pub barrier: u64,
    /// Events the source had sent before that barrier: event `i` (counted from 0 in
    /// source order) ran on the new version exactly when `i >= events_before`.
    pub events_before: u64,
    /// The longest time one subtask stopped its stream to switch.
    pub pause: Duration,
}

/// How a swap ended.
pub type SwapOutcome = Result<SwapApplied, String>;

/// One requested swap: operator `operator` to `plugin` on all `subtasks` subtasks.
#[derive(Debug)]
pub struct PluginSwap {
    operator: String,
    plugin: Plugin,
    subtasks: usize,
    progress: Mutex<Progress>,
    done: watch::Sender<Option<SwapOutcome>>,
}

#[derive(Debug, Default)]
struct Progress {
    armed_at: Option<(u64, u64)>,
    switched: usize,
    pause: Duration,
    error: Option<String>,
}

impl PluginSwap {
    /// The operator it swaps.
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// The plugin it swaps in.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// One subtask switched (or failed to); resolves the ticket after the last.
    /// Returns whether that was the last, and whether it was the first to switch.
    fn subtask_done(&self, result: Result<Duration, OperatorError>) -> (bool, bool) {
        let mut progress = lock(&self.progress);
        let first = progress.switched == 0 && result.is_ok();
        match result {
            Ok(pause) => progress.pause = progress.pause.max(pause),
            Err(error) => {
                progress.error.get_or_insert(error.to_string());
            }
        }
        progress.switched += 1;
        if progress.switched < self.subtasks {
            return (false, first);
        }
        let (barrier, events_before) = progress.armed_at.unwrap_or_default();
        let outcome = match progress.error.take() {
            Some(error) => Err(error),
            None => Ok(SwapApplied {
                barrier,
                events_before,
                pause: progress.pause,
            }),
        };
        self.done.send_replace(Some(outcome));
        (true, first)
    }
}

/// Waits for a swap to take effect.
#[derive(Debug, Clone)]
pub struct SwapTicket {
    done: watch::Receiver<Option<SwapOutcome>>,
}

impl SwapTicket {
    /// The outcome, once every subtask has switched; `None` after `timeout` (the
    /// pipeline may have ended before the next barrier).
    ///
    /// # Cancel safety
    /// Cancel safe: the ticket can be awaited again.
    pub async fn wait(&mut self, timeout: Duration) -> Option<SwapOutcome> {
        let waited = tokio::time::timeout(timeout, self.done.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(outcome)) => outcome.clone(),
            _ => None,
        }
    }
}

/// The swaps of one running pipeline (see the module docs). Shared by the source, the
/// chain subtasks and whoever deploys (the admin API, the watched directory, tests).
#[derive(Debug, Default)]
pub struct SwapBoard {
    state: Mutex<BoardState>,
    /// Wakes the source of a pipeline without checkpoints to inject a barrier.
    requested: Notify,
    /// Barrier numbers for swaps of a pipeline without checkpoints.
    swap_barriers: AtomicU64,
    /// The running pipeline's counters, published when it starts.
    stats: OnceLock<Arc<PipelineStats>>,
}

#[derive(Debug, Default)]
struct BoardState {
    /// Posted, waiting for the next barrier.
    requested: Vec<Arc<PluginSwap>>,
    /// Armed at a barrier, waiting for every subtask to pass it.
    armed: Vec<(u64, Arc<PluginSwap>)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SwapBoard {
    pub fn new() -> Self {
        SwapBoard::default()
    }

    /// Posts a swap of `operator` (with `subtasks` subtasks) to `plugin`, which must
    /// have been loaded for that operator (its settings and limits) and be of the
    /// world it runs. It takes effect at the next barrier the source sends.
    pub fn request(&self, operator: &str, subtasks: usize, plugin: Plugin) -> SwapTicket {
        let (done, receiver) = watch::channel(None);
        let swap = Arc::new(PluginSwap {
            operator: operator.to_owned(),
            plugin,
            subtasks: subtasks.max(1),
            progress: Mutex::new(Progress::default()),
            done,
        });
        lock(&self.state).requested.push(swap);
        self.requested.notify_one();
        SwapTicket { done: receiver }
    }

    /// Swaps posted or armed and not yet done.
    pub fn pending(&self) -> usize {
        let state = lock(&self.state);
        state.requested.len() + state.armed.len()
    }

    /// Whether some swap waits for a barrier.
    pub fn has_requests(&self) -> bool {
        !lock(&self.state).requested.is_empty()
    }

    /// Called by the source just before it sends barrier `barrier`, having sent
    /// `events_before` events: every posted swap takes effect at that barrier.
    pub fn arm(&self, barrier: u64, events_before: u64) {
        let mut state = lock(&self.state);
        for swap in std::mem::take(&mut state.requested) {
            lock(&swap.progress).armed_at = Some((barrier, events_before));
            state.armed.push((barrier, swap));
        }
    }

    /// The number of the next barrier injected for swaps alone (a pipeline without
    /// checkpoints).
    pub fn next_swap_barrier(&self) -> u64 {
        self.swap_barriers.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Waits until a swap is posted.
    ///
    /// # Cancel safety
    /// Cancel safe (`Notify::notified`; a request posted meanwhile leaves a permit).
    pub async fn requested(&self) {
        self.requested.notified().await;
    }

    /// The swaps armed at `barrier` for any of `operators`, in the order requested.
    pub fn armed_at(&self, barrier: u64, operators: &[&str]) -> Vec<Arc<PluginSwap>> {
        lock(&self.state)
            .armed
            .iter()
            .filter(|(at, swap)| *at == barrier && operators.contains(&swap.operator.as_str()))
            .map(|(_, swap)| swap.clone())
            .collect()
    }

    /// A subtask has switched `swap` (taking `result`: its pause, or why it could not).
    /// The first subtask to switch starts the new version's share of the operator's
    /// counters (exact for one subtask; with several, the others' batches between
    /// that moment and their own switch count for the new version).
    pub fn subtask_done(&self, swap: &Arc<PluginSwap>, result: Result<Duration, OperatorError>) {
        let (last, first) = swap.subtask_done(result);
        if first
            && let Some(operator) = self
                .stats
                .get()
                .and_then(|stats| stats.operators.iter().find(|o| o.name == swap.operator))
        {
            operator.begin_version(&swap.plugin.identity().to_string());
        }
        if last {
            lock(&self.state)
                .armed
                .retain(|(_, armed)| !Arc::ptr_eq(armed, swap));
        }
    }

    /// Publishes the running pipeline's counters (once, when it starts).
    pub fn publish_stats(&self, stats: Arc<PipelineStats>) {
        let _ = self.stats.set(stats);
    }

    /// The running pipeline's counters, once it has started.
    pub fn stats(&self) -> Option<&Arc<PipelineStats>> {
        self.stats.get()
    }
}

/// A fresh instance of `next` for `subtask` of the operator now running `current`, and
/// the origin its dead letters carry. Used by every plugin operator's
/// [`super::operator::Operator::swap_plugin`].
///
/// # Errors
/// When `next` is of another world than `current`, or its instance does not start.
pub fn start_swapped(
    current: &Plugin,
    next: &Plugin,
    subtask: usize,
) -> Result<(PluginInstance, Origin), OperatorError> {
    let operator = &current.spec().operator;
    let error = |message: String| OperatorError {
        operator: operator.clone(),
        message,
    };
    if next.kind() != current.kind() {
        return Err(error(format!(
            "cannot swap {} (a {} plugin) for {} (a {} plugin)",
            current.identity(),
            current.kind(),
            next.identity(),
            next.kind()
        )));
    }
    let instance = next
        .instantiate(subtask)
        .map_err(|why| error(format!("cannot start {}: {why}", next.identity())))?;
    let origin = Origin::Operator {
        operator: operator.clone(),
        plugin: next.identity().to_string(),
    };
    Ok((instance, origin))
}
