//! The runtime: operators, the tasks that run them, the channels between tasks, and
//! the pipeline graph.
//!
//! - [`message`]: what flows on channels (batches, watermarks, idleness, barriers, end);
//! - [`channel`]: bounded queues and the outlets that spread batches over subtasks,
//!   round-robin or by key group ([`partition`]);
//! - [`key_selector`]: the keys of a keyed operator's input (`key_by`);
//! - [`operator`]: the host-side operator contract; [`wasm_operator`] runs a plugin;
//!   [`subtask`]: what an operator instance learns about its place;
//! - [`align`]: barrier alignment over a task's inputs;
//! - [`swap`]: hot swap of an operator's plugin at a barrier;
//! - [`chain`]: chained operators on a task thread ([`timed_recv`] wakes it for
//!   processing time);
//! - [`source_task`] and `sink_task`: the tasks at both ends; `plan`: stages;
//! - [`dead_letter`]: records that could not be processed, with the reason;
//! - [`stats`]: live counters and the closing summary;
//! - [`watermarks`]: the minimum over a task's inputs, aware of idle ones.

pub mod align;
pub mod assemble;
pub mod chain;
pub mod channel;
pub mod dead_letter;
pub mod factory;
pub mod histogram;
pub mod key_selector;
pub mod keyed_operator;
pub mod keyed_store;
pub mod message;
pub mod operator;
pub mod partition;
pub mod pipeline;
mod plan;
mod sink_task;
pub mod source_task;
pub mod stats;
pub mod subtask;
pub mod swap;
pub mod timed_recv;
pub mod wasm_operator;
pub mod wasm_window;
pub mod watermarks;
