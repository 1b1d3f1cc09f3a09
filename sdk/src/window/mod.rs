//! Windows: [`WindowInfo`] (what a window function learns about a firing window) and
//! window process functions ([`WindowProcessor`]), which see all events of a window at
//! once.

pub(crate) mod export;
mod info;

pub use info::{Firing, WindowInfo};

use crate::event::Event;
use crate::state::{ScopeRef, StateHost, StateRegistry, StateScope, sealed};
use crate::{Error, Output, Settings};

/// A window process function. Export it with [`crate::export_window_processor!`].
///
/// The host buffers each window's events in its state and, when the window fires,
/// calls [`WindowProcessor::process`] with all of them, in timestamp order (ties in
/// arrival order). Use it for what an incremental [`crate::Aggregate`] cannot express:
/// medians, sequences, session features.
///
/// States declared in `init` are scoped to one key *and one window*: a window that
/// fires several times (early, on time, late) finds what it stored before, and the
/// host removes them with the window. As for every plugin, keep nothing per window in
/// `self`: the instance may be replaced at any moment.
///
/// # Errors
/// An error from `process` fails the host's call (its state writes are rolled back).
pub trait WindowProcessor: Sized + 'static {
    /// Named outputs this operator may emit to besides the main one.
    const OUTPUTS: &'static [&'static str] = &[];

    /// Builds the operator from its settings and declares its (window-scoped) states.
    ///
    /// # Errors
    /// [`Error::config`] to refuse the settings; a failed declaration.
    fn init(settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error>;

    /// Computes the results of one firing of `window`, whose events are `events`.
    /// [`Output::emit_window`] and [`Output::emit_window_json`] give a result the
    /// window's key and last millisecond.
    ///
    /// # Errors
    /// See the trait docs: an error fails the call.
    fn process(
        &mut self,
        window: &WindowInfo<'_>,
        events: &[Event<'_>],
        ctx: &mut WindowContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error>;
}

/// What a window process function can reach for the window at hand: its
/// window-scoped state (pass the context to a state handle).
pub struct WindowContext<'a> {
    state: &'a dyn StateHost,
    scope: u32,
}

impl std::fmt::Debug for WindowContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowContext")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl sealed::Sealed for WindowContext<'_> {}

impl StateScope for WindowContext<'_> {
    fn scope(&self) -> ScopeRef<'_> {
        ScopeRef {
            host: self.state,
            index: self.scope,
        }
    }
}

impl<'a> WindowContext<'a> {
    pub(crate) fn new(state: &'a dyn StateHost, scope: u32) -> Self {
        WindowContext { state, scope }
    }
}

#[cfg(test)]
mod tests;
