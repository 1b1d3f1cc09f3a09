//! The calls that need keyed state on a [`PluginInstance`]: lending the operator's
//! [`KeyedStore`] for one call and `keyed-processor.on-timer`.

use weir_batch::Timestamp;

use super::bindings::keyed::exports::weir::operator::keyed_processor::FiredTimer as WitFiredTimer;
use super::bindings::keyed::weir::operator::timers::TimeDomain;
use super::exports::Exports;
use super::instance::{CallFailure, CallOutputs, PluginInstance, guest_failure};
use super::state::{CallScope, KeyedStore, StateSpec, TimerDomain};

/// A timer that is due, for `on-timer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiredTimer {
    pub key: Vec<u8>,
    pub at: Timestamp,
    pub domain: TimerDomain,
}

impl PluginInstance {
    /// Lends `store` for the next call, whose scope `i` is `scopes[i]`.
    pub fn lend_state(
        &mut self,
        store: Box<dyn KeyedStore>,
        scopes: Vec<CallScope>,
        watermark: Option<Timestamp>,
    ) {
        let timers_allowed = matches!(self.exports, Exports::KeyedProcess(_));
        self.store
            .data_mut()
            .state
            .lend(store, scopes, watermark, timers_allowed);
    }

    /// Takes the lent store back (and the scopes, to reuse their buffers).
    pub fn take_state(&mut self) -> Option<(Box<dyn KeyedStore>, Vec<CallScope>)> {
        self.store.data_mut().state.take()
    }

    /// The states this instance declared in `init`, by id.
    pub fn declared_states(&self) -> &[StateSpec] {
        self.store.data().state.declared()
    }

    /// `keyed-processor.on-timer` for due timers, in time order (scope `i` = timer `i`).
    ///
    /// # Errors
    /// The call's failure.
    pub fn on_timer(&mut self, timers: &[FiredTimer]) -> Result<CallOutputs, CallFailure> {
        let Exports::KeyedProcess(exports) = &self.exports else {
            return Err(CallFailure::NotThisKind {
                kind: self.kind(),
                function: "on-timer",
            });
        };
        let exports = exports.weir_operator_keyed_processor();
        let timers: Vec<WitFiredTimer> = timers
            .iter()
            .map(|timer| WitFiredTimer {
                key: timer.key.clone(),
                at: timer.at,
                domain: match timer.domain {
                    TimerDomain::EventTime => TimeDomain::EventTime,
                    TimerDomain::ProcessingTime => TimeDomain::ProcessingTime,
                },
            })
            .collect();
        self.store.set_epoch_deadline(self.deadline_ticks);
        match exports.call_on_timer(&mut self.store, &timers) {
            // A timer is not an input event: nothing can be rejected by index.
            Ok(Ok(outputs)) => self.check_outputs(outputs, 0),
            Ok(Err(error)) => Err(guest_failure(error)),
            Err(error) => Err(self.classify(error)),
        }
    }
}
