//! The runtime: operators, the tasks that run them, the channels between tasks, and
//! the pipeline graph.
//!
//! - [`message`]: what flows on channels (batches, watermarks, barriers, end);
//! - [`channel`]: bounded queues and the outlets that spread batches over subtasks;
//! - [`operator`]: the host-side operator contract; [`wasm_operator`] runs a plugin;
//! - [`chain`]: chained operators on a task thread;
//! - [`dead_letter`]: records that could not be processed, with the reason;
//! - [`stats`]: live counters and the closing summary;
//! - [`watermarks`]: the minimum over a task's inputs.

pub mod assemble;
pub mod chain;
pub mod channel;
pub mod dead_letter;
pub mod keyed_operator;
pub mod keyed_store;
pub mod message;
pub mod operator;
pub mod pipeline;
pub mod stats;
pub mod wasm_operator;
pub mod wasm_window;
pub mod watermarks;
