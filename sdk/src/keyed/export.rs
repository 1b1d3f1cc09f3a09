//! [`crate::export_keyed_processor!`] and the glue it expands to: one call per batch of
//! events or of timers, one [`KeyedContext`] per event or timer, whose scope is the
//! event's (or timer's) index in the call, as `wit/keyed-processor.wit` defines.

use std::cell::RefCell;

use weir_batch::Batch;

use crate::convert::{batch_from_wit, outputs_into_wit};
use crate::export::{plugin_info, with_instance};
use crate::keyed::{KeyedContext, KeyedProcessor, TimeDomain, Timer, TimerHost, WitTimers};
use crate::state::cache::CallCache;
use crate::state::{StateHost, StateRegistry, WitState};
use crate::wit::keyed::exports::weir::operator::keyed_processor::FiredTimer;
use crate::wit::types::{Batch as WitBatch, Error as WitError, Outputs, PluginInfo};
use crate::{Error, Output, Settings};

/// Exports a [`KeyedProcessor`](crate::KeyedProcessor) as the plugin's operator (world
/// `keyed-process`).
///
/// ```
/// use weir_sdk::{Error, Event, KeyedContext, KeyedProcessor, Output, Settings, StateRegistry, ValueState};
///
/// /// Numbers each key's events: 1, 2, 3...
/// struct Sequence {
///     seen: ValueState<u64>,
/// }
///
/// impl KeyedProcessor for Sequence {
///     fn init(_settings: Settings, states: &mut StateRegistry<'_>) -> Result<Self, Error> {
///         Ok(Sequence { seen: states.value("seen").declare()? })
///     }
///
///     fn process(&mut self, event: &Event<'_>, ctx: &mut KeyedContext<'_>, out: &mut Output) -> Result<(), Error> {
///         let n = self.seen.get(ctx)?.unwrap_or(0) + 1;
///         self.seen.set(ctx, &n)?;
///         out.emit_value(event, n.to_string().as_bytes());
///         Ok(())
///     }
/// }
///
/// weir_sdk::export_keyed_processor!(Sequence);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_keyed_processor {
    ($processor:ty) => {
        #[doc(hidden)]
        mod __weir_plugin_export {
            #[allow(unused_imports)]
            use super::*;
            use $crate::wit::keyed::exports::weir::operator::keyed_processor as wit;

            ::std::thread_local! {
                static INSTANCE: ::std::cell::RefCell<::std::option::Option<$processor>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }

            struct WeirPlugin;

            impl wit::Guest for WeirPlugin {
                fn describe() -> wit::PluginInfo {
                    $crate::__private::keyed::describe::<$processor>(
                        env!("CARGO_PKG_NAME"),
                        env!("CARGO_PKG_VERSION"),
                    )
                }

                fn init(settings: String) -> Result<(), wit::Error> {
                    INSTANCE.with(|slot| $crate::__private::keyed::init(slot, settings))
                }

                fn process(events: wit::Batch) -> Result<wit::Outputs, wit::Error> {
                    INSTANCE.with(|slot| $crate::__private::keyed::process(slot, events))
                }

                fn on_timer(
                    timers: ::std::vec::Vec<wit::FiredTimer>,
                ) -> Result<wit::Outputs, wit::Error> {
                    INSTANCE.with(|slot| $crate::__private::keyed::on_timer(slot, timers))
                }
            }

            $crate::wit::keyed::export_keyed_bindings!(
                WeirPlugin with_types_in $crate::wit::keyed
            );
        }
    };
}

#[doc(hidden)]
pub fn describe<P: KeyedProcessor>(name: &str, version: &str) -> PluginInfo {
    plugin_info(name, version, P::OUTPUTS)
}

#[doc(hidden)]
pub fn init<P: KeyedProcessor>(
    slot: &RefCell<Option<P>>,
    settings: String,
) -> Result<(), WitError> {
    let processor = init_with::<P>(settings, &WitState).map_err(Error::into_wit)?;
    *slot.borrow_mut() = Some(processor);
    Ok(())
}

#[doc(hidden)]
pub fn process<P: KeyedProcessor>(
    slot: &RefCell<Option<P>>,
    events: WitBatch,
) -> Result<Outputs, WitError> {
    with_instance(slot, "process", |processor| {
        let batch = batch_from_wit(events);
        run_process(processor, &batch, &WitState, &WitTimers).map(outputs_into_wit)
    })
}

#[doc(hidden)]
pub fn on_timer<P: KeyedProcessor>(
    slot: &RefCell<Option<P>>,
    timers: Vec<FiredTimer>,
) -> Result<Outputs, WitError> {
    with_instance(slot, "on-timer", |processor| {
        run_on_timer(processor, &timers, &WitState, &WitTimers).map(outputs_into_wit)
    })
}

pub(crate) fn init_with<P: KeyedProcessor>(
    settings: String,
    state: &dyn StateHost,
) -> Result<P, Error> {
    P::init(Settings::new(settings), &mut StateRegistry::new(state))
}

/// Event `i` of `batch` runs with scope `i`. Value states go through a [`CallCache`]
/// written back when every event has run.
pub(crate) fn run_process<P: KeyedProcessor>(
    processor: &mut P,
    batch: &Batch,
    state: &dyn StateHost,
    timers: &dyn TimerHost,
) -> Result<Output, Error> {
    let cache = CallCache::new(state, batch.iter().map(|event| event.key));
    let mut out = Output::sized_for(batch);
    for event in batch.iter() {
        let mut ctx = KeyedContext::new(&cache, timers, event.index, event.key, event.timestamp);
        processor.process(&event, &mut ctx, &mut out)?;
    }
    cache.write_back()?;
    Ok(out)
}

/// Timer `i` runs with scope `i`, value states cached as in [`run_process`].
pub(crate) fn run_on_timer<P: KeyedProcessor>(
    processor: &mut P,
    fired: &[FiredTimer],
    state: &dyn StateHost,
    timers: &dyn TimerHost,
) -> Result<Output, Error> {
    let cache = CallCache::new(state, fired.iter().map(|timer| Some(timer.key.as_slice())));
    let mut out = Output::default();
    for (scope, fired) in (0u32..).zip(fired) {
        let timer = Timer {
            key: &fired.key,
            at: fired.at,
            domain: TimeDomain::from_wit(fired.domain),
        };
        let mut ctx = KeyedContext::new(&cache, timers, scope, Some(timer.key), timer.at);
        processor.on_timer(&timer, &mut ctx, &mut out)?;
    }
    cache.write_back()?;
    Ok(out)
}
