//! Keyed process functions: [`KeyedProcessor`] sees every event of its keys and the
//! timers they set, with per-key state in the host, through a [`KeyedContext`].

pub(crate) mod export;
mod host;

use crate::event::{Event, Timestamp};
use crate::state::{ScopeRef, StateHost, StateRegistry, StateScope, sealed};
use crate::wit::timers::TimeDomain as WitTimeDomain;
use crate::{Error, Output, Settings};

pub(crate) use host::{TimerHost, WitTimers};

/// A keyed process function. Export it with [`crate::export_keyed_processor!`].
///
/// The pipeline keys the stream (`key_by`); the host routes every key to one subtask
/// and calls [`KeyedProcessor::process`] for each event, in arrival order, with a
/// context that stands for the event's key: states read and written through it are
/// that key's, timers set through it fire for that key.
///
/// The instance may be dropped and re-created at any moment (after a trap, for a new
/// plugin version, on rescaling), and one instance serves many keys: **keep nothing
/// per key in `self`**. What must survive belongs in the states declared in
/// [`KeyedProcessor::init`]; `self` holds settings, state handles and caches.
///
/// # Errors and state
/// An error from `process` or `on_timer` fails the host's whole call: the host rolls
/// back the call's state writes and timers, re-runs the batch one event at a time and
/// dead-letters the events that still fail. To refuse an event cheaply, before writing
/// any state for it, use [`Output::reject`] instead.
pub trait KeyedProcessor: Sized + 'static {
    /// Named outputs this operator may emit to besides the main one.
    const OUTPUTS: &'static [&'static str] = &[];

    /// Builds the operator from its settings and declares its states.
    ///
    /// # Errors
    /// [`Error::config`] to refuse the settings; a failed declaration.
    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error>;

    /// Handles one event of `ctx.key()`.
    ///
    /// # Errors
    /// See the trait docs: an error fails the call.
    fn process(
        &mut self,
        event: &Event<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error>;

    /// Handles a timer of `ctx.key()` that is due. Does nothing unless overridden.
    ///
    /// # Errors
    /// See the trait docs: an error fails the call.
    fn on_timer(
        &mut self,
        timer: &Timer<'_>,
        ctx: &mut KeyedContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        let _ = (timer, ctx, out);
        Ok(())
    }
}

/// The clock a timer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeDomain {
    /// The operator's watermark: deterministic, replays give the same firings.
    EventTime,
    /// The host's wall clock, in ms since the Unix epoch. Not replayable.
    ProcessingTime,
}

impl TimeDomain {
    /// `event-time` or `processing-time`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeDomain::EventTime => "event-time",
            TimeDomain::ProcessingTime => "processing-time",
        }
    }

    fn into_wit(self) -> WitTimeDomain {
        match self {
            TimeDomain::EventTime => WitTimeDomain::EventTime,
            TimeDomain::ProcessingTime => WitTimeDomain::ProcessingTime,
        }
    }

    pub(crate) fn from_wit(domain: WitTimeDomain) -> Self {
        match domain {
            WitTimeDomain::EventTime => TimeDomain::EventTime,
            WitTimeDomain::ProcessingTime => TimeDomain::ProcessingTime,
        }
    }
}

/// A timer that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer<'a> {
    /// The key it was registered for (also [`KeyedContext::key`]).
    pub key: &'a [u8],
    /// The time it was registered for.
    pub at: Timestamp,
    /// Which clock it follows.
    pub domain: TimeDomain,
}

/// What a keyed process function can see and do for the key at hand: its state (pass
/// the context to a state handle), its timers, and the operator's clocks.
pub struct KeyedContext<'a> {
    state: &'a dyn StateHost,
    timers: &'a dyn TimerHost,
    scope: u32,
    key: Option<&'a [u8]>,
    timestamp: Timestamp,
}

impl std::fmt::Debug for KeyedContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedContext")
            .field("scope", &self.scope)
            .field("key", &self.key)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl sealed::Sealed for KeyedContext<'_> {}

impl StateScope for KeyedContext<'_> {
    fn scope(&self) -> ScopeRef<'_> {
        ScopeRef {
            host: self.state,
            index: self.scope,
        }
    }
}

impl<'a> KeyedContext<'a> {
    pub(crate) fn new(
        state: &'a dyn StateHost,
        timers: &'a dyn TimerHost,
        scope: u32,
        key: Option<&'a [u8]>,
        timestamp: Timestamp,
    ) -> Self {
        KeyedContext {
            state,
            timers,
            scope,
            key,
            timestamp,
        }
    }

    /// The key at hand: the event's, or the timer's. `None` only for an event without a
    /// key (a stream keyed by the pipeline always has keys).
    pub fn key(&self) -> Option<&'a [u8]> {
        self.key
    }

    /// The event's timestamp, or the time the timer was set for.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The operator's current watermark; `None` before the first one.
    pub fn watermark(&self) -> Option<Timestamp> {
        self.timers.watermark()
    }

    /// The host's wall clock, in ms since the Unix epoch (not replayable: prefer event
    /// time).
    pub fn processing_time(&self) -> Timestamp {
        self.timers.processing_time()
    }

    /// Sets an event-time timer for this key at `at`: [`KeyedProcessor::on_timer`] runs
    /// when the watermark reaches it (at the next watermark if it already has). A timer
    /// set twice for the same key and time fires once.
    ///
    /// # Errors
    /// When the host's state backend fails.
    pub fn register_event_timer(&mut self, at: Timestamp) -> Result<(), Error> {
        self.timer_call(TimeDomain::EventTime, at, true)
    }

    /// Deletes this key's event-time timer at `at`, if there is one.
    ///
    /// # Errors
    /// When the host's state backend fails.
    pub fn delete_event_timer(&mut self, at: Timestamp) -> Result<(), Error> {
        self.timer_call(TimeDomain::EventTime, at, false)
    }

    /// Sets a processing-time timer for this key at `at` (ms since the Unix epoch).
    ///
    /// # Errors
    /// When the host's state backend fails.
    pub fn register_processing_timer(&mut self, at: Timestamp) -> Result<(), Error> {
        self.timer_call(TimeDomain::ProcessingTime, at, true)
    }

    /// Deletes this key's processing-time timer at `at`, if there is one.
    ///
    /// # Errors
    /// When the host's state backend fails.
    pub fn delete_processing_timer(&mut self, at: Timestamp) -> Result<(), Error> {
        self.timer_call(TimeDomain::ProcessingTime, at, false)
    }

    fn timer_call(
        &mut self,
        domain: TimeDomain,
        at: Timestamp,
        register: bool,
    ) -> Result<(), Error> {
        let result = if register {
            self.timers.register(self.scope, domain.into_wit(), at)
        } else {
            self.timers.delete(self.scope, domain.into_wit(), at)
        };
        result.map_err(|error| {
            crate::state::host::host_error(format_args!("{} timer at {at}", domain.as_str()), error)
        })
    }
}

#[cfg(test)]
mod tests;
