//! [`PluginInstance`]: one live instance of a plugin, with its own store, memory cap
//! and deadline, and the one call the hot path makes per batch.
//!
//! A call either returns outputs, or fails in one of the ways of [`CallFailure`]. After
//! a trap (including a missed deadline or memory exhaustion) the instance is
//! *poisoned*: its memory may be in any state, so the caller must drop it and make a
//! fresh one. State that must survive lives in the host, so nothing is lost by that.

use std::collections::BTreeMap;

use wasmtime::{Store, Trap};

use super::bindings::weir::operator::types as wit;
use super::bindings::{GuestError, GuestErrorKind, GuestPluginInfo};
use super::engine::WasmEngine;
use super::exports::{Exports, KindPre};
use super::kind::PluginKind;
use super::loader::PluginSpec;
use super::store::HostCtx;
use crate::batch::{Batch, BatchError};

/// What one call produced, checked: every batch is well formed and every named
/// output is one the plugin declared.
#[derive(Debug, Default)]
pub struct CallOutputs {
    pub main: Batch,
    /// Events per named output, in the order the plugin returned them.
    pub named: Vec<(String, Batch)>,
    /// Input events the plugin refused: (index in the input batch, reason).
    pub rejected: Vec<(u32, String)>,
}

/// Why a call failed. Every variant fails the batch, not the host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// The guest returned an `error`. The instance stays usable.
    #[error("plugin error ({kind}): {message}")]
    Guest { kind: &'static str, message: String },
    /// The guest trapped (panic, unreachable, out-of-bounds access...).
    #[error("trap: {0}")]
    Trap(String),
    /// The call ran past its deadline and was interrupted.
    #[error("deadline of {0} ms exceeded")]
    Deadline(u128),
    /// The guest asked for more memory than its limit and then trapped.
    #[error("memory limit of {0} MiB exceeded")]
    OutOfMemory(usize),
    /// The guest returned outputs that break the contract (malformed batch, undeclared
    /// output, rejection of an event it was not given).
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// The host asked for a function the plugin's world does not have (a bug in the
    /// host's wiring, reported rather than hidden).
    #[error("a {kind} plugin has no `{function}` function")]
    NotThisKind {
        kind: PluginKind,
        function: &'static str,
    },
}

impl CallFailure {
    /// Whether the instance must be replaced before the next call.
    pub fn poisons_instance(&self) -> bool {
        matches!(
            self,
            CallFailure::Trap(_) | CallFailure::Deadline(_) | CallFailure::OutOfMemory(_)
        )
    }
}

/// One instance of a plugin: a store and the bindings of its exports.
pub struct PluginInstance {
    pub(super) store: Store<HostCtx>,
    pub(super) exports: Exports,
    pub(super) deadline_ticks: u64,
    deadline_ms: u128,
    declared_outputs: Vec<String>,
}

impl std::fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginInstance")
            .field("operator", &self.store.data().operator)
            .finish_non_exhaustive()
    }
}

impl PluginInstance {
    pub(crate) fn new(
        pre: &KindPre,
        engine: &WasmEngine,
        spec: &PluginSpec,
        seed: u64,
        models: crate::model::ModelGrants,
    ) -> wasmtime::Result<Self> {
        let ctx = HostCtx::new(
            spec.operator.as_str().into(),
            spec.limits.memory_bytes,
            seed,
            models,
        );
        let mut store = Store::new(engine.engine(), ctx);
        store.limiter(|ctx| &mut ctx.limiter);
        let deadline_ticks = WasmEngine::deadline_ticks(spec.limits.deadline);
        store.set_epoch_deadline(deadline_ticks);
        store.epoch_deadline_trap();
        let exports = pre.instantiate(&mut store)?;
        Ok(PluginInstance {
            store,
            exports,
            deadline_ticks,
            deadline_ms: spec.limits.deadline.as_millis(),
            declared_outputs: Vec::new(),
        })
    }

    pub(crate) fn describe(&mut self) -> Result<GuestPluginInfo, CallFailure> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = self.exports.describe(&mut self.store);
        let info = result.map_err(|error| self.classify(error))?;
        self.declared_outputs = info.outputs.clone();
        Ok(info)
    }

    pub(crate) fn init(&mut self, settings_json: &str) -> Result<(), CallFailure> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        // States are declared in `init`, and only there.
        self.store.data_mut().state.set_in_init(true);
        let result = self.exports.init(&mut self.store, settings_json);
        self.store.data_mut().state.set_in_init(false);
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(guest_failure(error)),
            Err(error) => Err(self.classify(error)),
        }
    }

    /// The world the instance implements.
    pub fn kind(&self) -> PluginKind {
        match self.exports {
            Exports::Stateless(_) => PluginKind::Stateless,
            Exports::KeyedProcess(_) => PluginKind::KeyedProcess,
            Exports::WindowAggregate(_) => PluginKind::WindowAggregate,
            Exports::WindowProcess(_) => PluginKind::WindowProcess,
        }
    }

    /// Runs one batch through a stateless or keyed-process plugin. The batch is handed
    /// back with the result so that the caller can dead-letter or re-run its events.
    /// For a keyed plugin, the caller sets the call's scopes first (see `state`).
    pub fn process(&mut self, batch: Batch) -> (Batch, Result<CallOutputs, CallFailure>) {
        let input = wit::Batch::from(batch);
        self.store.set_epoch_deadline(self.deadline_ticks);
        let result = match &self.exports {
            Exports::Stateless(exports) => exports
                .weir_operator_processor()
                .call_process(&mut self.store, &input),
            Exports::KeyedProcess(exports) => exports
                .weir_operator_keyed_processor()
                .call_process(&mut self.store, &input),
            Exports::WindowAggregate(_) | Exports::WindowProcess(_) => {
                let failure = CallFailure::NotThisKind {
                    kind: self.kind(),
                    function: "process",
                };
                return (Batch::from(input), Err(failure));
            }
        };
        let batch = Batch::from(input);
        let outputs = match result {
            Ok(Ok(outputs)) => self.check_outputs(outputs, batch.len()),
            Ok(Err(error)) => Err(guest_failure(error)),
            Err(error) => Err(self.classify(error)),
        };
        (batch, outputs)
    }

    /// Plugin-defined counters gathered since the last call.
    pub fn drain_counters(&mut self) -> BTreeMap<String, u64> {
        self.store.data_mut().counters.drain()
    }

    /// Bytes of linear memory the instance has grown to.
    pub fn memory_in_use(&self) -> usize {
        self.store.data().limiter.in_use()
    }

    pub(super) fn check_outputs(
        &self,
        outputs: super::bindings::GuestOutputs,
        input_len: usize,
    ) -> Result<CallOutputs, CallFailure> {
        let invalid = |error: BatchError, output: &str| {
            CallFailure::InvalidOutput(format!("output `{output}`: {error}"))
        };
        let main = Batch::from(outputs.main);
        main.validate().map_err(|error| invalid(error, "main"))?;
        let mut named = Vec::with_capacity(outputs.named.len());
        for named_batch in outputs.named {
            if !self.declared_outputs.contains(&named_batch.output) {
                return Err(CallFailure::InvalidOutput(format!(
                    "output `{}` is not among the outputs the plugin declared ({:?})",
                    named_batch.output, self.declared_outputs
                )));
            }
            let events = Batch::from(named_batch.events);
            events
                .validate()
                .map_err(|error| invalid(error, &named_batch.output))?;
            named.push((named_batch.output, events));
        }
        let mut rejected = Vec::with_capacity(outputs.rejected.len());
        for rejection in outputs.rejected {
            if rejection.event as usize >= input_len {
                return Err(CallFailure::InvalidOutput(format!(
                    "rejected event {} of a batch of {input_len}",
                    rejection.event
                )));
            }
            rejected.push((rejection.event, rejection.reason));
        }
        Ok(CallOutputs {
            main,
            named,
            rejected,
        })
    }

    /// Turns a wasmtime error out of a call into a [`CallFailure`].
    pub(super) fn classify(&mut self, error: wasmtime::Error) -> CallFailure {
        let limiter = &mut self.store.data_mut().limiter;
        if limiter.was_hit() {
            limiter.clear_hit();
            return CallFailure::OutOfMemory(limiter.limit_bytes() >> 20);
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallFailure::Deadline(self.deadline_ms),
            _ => CallFailure::Trap(format!("{error:#}")),
        }
    }
}

pub(super) fn guest_failure(error: GuestError) -> CallFailure {
    let kind = match error.kind {
        GuestErrorKind::InvalidConfig => "invalid-config",
        GuestErrorKind::InvalidInput => "invalid-input",
        GuestErrorKind::Internal => "internal",
    };
    CallFailure::Guest {
        kind,
        message: error.message,
    }
}
