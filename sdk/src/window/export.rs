//! [`crate::export_window_processor!`] and the glue it expands to: one call per batch
//! of firing windows, split into one [`WindowProcessor::process`] per firing, whose
//! state scope is the firing's index, as `wit/window-processor.wit` defines.

use std::cell::RefCell;

use weir_batch::Batch;

use crate::convert::{batch_from_wit, outputs_into_wit, ranges};
use crate::event::Event;
use crate::export::{plugin_info, with_instance};
use crate::state::{StateHost, StateRegistry, WitState};
use crate::window::{WindowContext, WindowInfo, WindowProcessor};
use crate::wit::types::{Batch as WitBatch, Error as WitError, Outputs, PluginInfo};
use crate::wit::windows::WindowFirings;
use crate::{Error, Output, Settings};

/// Exports a [`WindowProcessor`](crate::WindowProcessor) as the plugin's operator
/// (world `window-process`).
///
/// ```
/// use weir_sdk::{Error, Event, Output, Settings, StateRegistry, WindowContext, WindowInfo, WindowProcessor};
///
/// /// Emits the median timestamp of each window.
/// struct MedianTime;
///
/// impl WindowProcessor for MedianTime {
///     fn init(_settings: Settings, _states: &mut StateRegistry<'_>) -> Result<Self, Error> {
///         Ok(MedianTime)
///     }
///
///     fn process(
///         &mut self,
///         window: &WindowInfo<'_>,
///         events: &[Event<'_>],
///         _ctx: &mut WindowContext<'_>,
///         out: &mut Output,
///     ) -> Result<(), Error> {
///         if let Some(middle) = events.get(events.len() / 2) {
///             out.emit_window(window, middle.timestamp.to_string().as_bytes());
///         }
///         Ok(())
///     }
/// }
///
/// weir_sdk::export_window_processor!(MedianTime);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_window_processor {
    ($processor:ty) => {
        #[doc(hidden)]
        mod __weir_plugin_export {
            #[allow(unused_imports)]
            use super::*;
            use $crate::wit::window::exports::weir::operator::window_processor as wit;

            ::std::thread_local! {
                static INSTANCE: ::std::cell::RefCell<::std::option::Option<$processor>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }

            struct WeirPlugin;

            impl wit::Guest for WeirPlugin {
                fn describe() -> wit::PluginInfo {
                    $crate::__private::window::describe::<$processor>(
                        env!("CARGO_PKG_NAME"),
                        env!("CARGO_PKG_VERSION"),
                    )
                }

                fn init(settings: String) -> Result<(), wit::Error> {
                    INSTANCE.with(|slot| $crate::__private::window::init(slot, settings))
                }

                fn process(
                    firings: wit::WindowFirings,
                    event_ends: ::std::vec::Vec<u32>,
                    events: wit::Batch,
                ) -> Result<wit::Outputs, wit::Error> {
                    INSTANCE.with(|slot| {
                        $crate::__private::window::process(slot, firings, event_ends, events)
                    })
                }
            }

            $crate::wit::window::export_window_bindings!(
                WeirPlugin with_types_in $crate::wit::window
            );
        }
    };
}

#[doc(hidden)]
pub fn describe<P: WindowProcessor>(name: &str, version: &str) -> PluginInfo {
    plugin_info(name, version, P::OUTPUTS)
}

#[doc(hidden)]
pub fn init<P: WindowProcessor>(
    slot: &RefCell<Option<P>>,
    settings: String,
) -> Result<(), WitError> {
    let processor = init_with::<P>(settings, &WitState).map_err(Error::into_wit)?;
    *slot.borrow_mut() = Some(processor);
    Ok(())
}

#[doc(hidden)]
pub fn process<P: WindowProcessor>(
    slot: &RefCell<Option<P>>,
    firings: WindowFirings,
    event_ends: Vec<u32>,
    events: WitBatch,
) -> Result<Outputs, WitError> {
    with_instance(slot, "process", |processor| {
        let batch = batch_from_wit(events);
        let windows = WindowInfo::all_from_wit(&firings)?;
        run_process(processor, &windows, &event_ends, &batch, &WitState).map(outputs_into_wit)
    })
}

pub(crate) fn init_with<P: WindowProcessor>(
    settings: String,
    state: &dyn StateHost,
) -> Result<P, Error> {
    P::init(Settings::new(settings), &mut StateRegistry::new(state))
}

/// Firing `i` gets `events[event_ends[i-1]..event_ends[i]]` and scope `i`.
pub(crate) fn run_process<P: WindowProcessor>(
    processor: &mut P,
    firings: &[WindowInfo<'_>],
    event_ends: &[u32],
    batch: &Batch,
    state: &dyn StateHost,
) -> Result<Output, Error> {
    if event_ends.len() != firings.len() {
        return Err(Error::internal(format!(
            "{} event ends for {} firings",
            event_ends.len(),
            firings.len()
        )));
    }
    // One walk over the batch; each firing then borrows its slice.
    let events: Vec<Event<'_>> = batch.iter().collect();
    let mut out = Output::default();
    let groups = ranges(event_ends, events.len(), "event ends");
    for ((scope, firing), group) in (0u32..).zip(firings).zip(groups) {
        let mut ctx = WindowContext::new(state, scope);
        processor.process(firing, &events[group?], &mut ctx, &mut out)?;
    }
    Ok(out)
}
