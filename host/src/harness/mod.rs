//! The plugin author's test harness: run a component exactly as the host does — same
//! engine, limits, host interfaces and operators — one step at a time, and compare
//! what it emits with what is expected. Flink's operator test harnesses and Kafka
//! Streams' `TopologyTestDriver` are the model.
//!
//! - [`driver`]: [`Harness`], one operator subtask fed events, watermarks and
//!   processing time, with snapshots, restores and version swaps;
//! - [`state_view`]: reading and presetting a keyed process function's state and
//!   timers;
//! - [`outputs`]: what it emitted, per output, as records and JSON lines;
//! - [`script`]: the `weir test` files — input lines (events and time controls) and
//!   expected lines — and running one case;
//! - [`diff`]: readable line diffs for failed comparisons;
//! - [`project`]: `weir-project.toml`, the plugin project file `weir new`, `weir build`
//!   and `weir test` share; [`project_build`]: `weir build`; [`scaffold`]: `weir new`'s
//!   templates.
//!
//! The `weir-harness` crate is the entry point for tests in a plugin's own crate; the
//! machinery lives here so that `weir test` runs the very same code.

pub mod diff;
pub mod driver;
pub mod outputs;
pub mod project;
pub mod project_build;
pub mod scaffold;
pub mod script;
pub mod state_view;

pub use driver::{Harness, HarnessConfig, InputEvent, OPERATOR_NAME, Snapshot};
pub use outputs::{DEAD_LETTER, MAIN, Output};
pub use state_view::{PendingTimer, StateEditor};

use crate::runtime::operator::OperatorError;

/// Why the harness could not do what it was asked. Plugin faults during a step are not
/// errors: they are contained as in a pipeline and show up as dead letters.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The Wasm engine did not start.
    #[error("the Wasm engine: {0}")]
    Engine(String),
    /// The component did not load (not a component, wrong world, `init` refused...).
    #[error("{0}")]
    Plugin(String),
    /// The configuration does not fit the plugin, or a step is not possible.
    #[error("{0}")]
    Config(String),
    /// What would stop a pipeline (an instance that cannot be re-made, a snapshot
    /// that cannot be written or restored).
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// Reading or writing keyed state failed.
    #[error("state: {0}")]
    State(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
}
