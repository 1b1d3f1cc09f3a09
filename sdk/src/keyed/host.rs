//! [`TimerHost`]: the timer calls of a keyed process function, behind a trait for the
//! same reason as [`crate::state::StateHost`]; [`WitTimers`] forwards them to the host.

use crate::event::Timestamp;
use crate::wit::state::StateError;
use crate::wit::timers::{self as wit, TimeDomain};

/// The `timers` interface of `wit/timers.wit`.
pub(crate) trait TimerHost {
    fn register(&self, scope: u32, domain: TimeDomain, at: Timestamp) -> Result<(), StateError>;
    fn delete(&self, scope: u32, domain: TimeDomain, at: Timestamp) -> Result<(), StateError>;
    fn watermark(&self) -> Option<Timestamp>;
    fn processing_time(&self) -> Timestamp;
}

/// The host's `timers` import. Only the keyed glue makes one, so no other world's
/// plugin imports `timers`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WitTimers;

impl TimerHost for WitTimers {
    fn register(&self, scope: u32, domain: TimeDomain, at: Timestamp) -> Result<(), StateError> {
        wit::register(scope, domain, at)
    }

    fn delete(&self, scope: u32, domain: TimeDomain, at: Timestamp) -> Result<(), StateError> {
        wit::delete(scope, domain, at)
    }

    fn watermark(&self) -> Option<Timestamp> {
        wit::watermark()
    }

    fn processing_time(&self) -> Timestamp {
        wit::processing_time()
    }
}
