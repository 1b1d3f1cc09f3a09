//! [`crate::export_aggregate!`] and the glue it expands to.

use std::cell::RefCell;

use crate::aggregate::{Adapter, Aggregate};
use crate::convert::batch_from_wit;
use crate::export::{plugin_info, with_instance};
use crate::window::WindowInfo;
use crate::wit::types::{Batch as WitBatch, Error as WitError, PackedBytes, PluginInfo};
use crate::wit::windows::WindowFirings;
use crate::{Error, Settings};

/// Exports an [`Aggregate`](crate::Aggregate) as the plugin's operator (world
/// `window-aggregate`).
///
/// ```
/// use weir_sdk::{Aggregate, Error, Event, Settings, WindowInfo};
///
/// /// Counts the events of each window.
/// struct Count;
///
/// impl Aggregate for Count {
///     type Acc = u64;
///
///     fn new(_settings: Settings) -> Result<Self, Error> {
///         Ok(Count)
///     }
///
///     fn init(&self) -> u64 {
///         0
///     }
///
///     fn add(&self, acc: &mut u64, _event: &Event<'_>) -> Result<(), Error> {
///         *acc += 1;
///         Ok(())
///     }
///
///     fn merge(&self, acc: &mut u64, other: u64) {
///         *acc += other;
///     }
///
///     fn finish(&self, acc: u64, _window: &WindowInfo<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
///         out.extend_from_slice(acc.to_string().as_bytes());
///         Ok(())
///     }
/// }
///
/// weir_sdk::export_aggregate!(Count);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_aggregate {
    ($aggregate:ty) => {
        #[doc(hidden)]
        mod __weir_plugin_export {
            #[allow(unused_imports)]
            use super::*;
            use $crate::wit::aggregate::exports::weir::operator::aggregator as wit;

            ::std::thread_local! {
                static INSTANCE: ::std::cell::RefCell<
                    ::std::option::Option<$crate::__private::aggregate::Adapter<$aggregate>>,
                > = const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }

            struct WeirPlugin;

            impl wit::Guest for WeirPlugin {
                fn describe() -> wit::PluginInfo {
                    $crate::__private::aggregate::describe(
                        env!("CARGO_PKG_NAME"),
                        env!("CARGO_PKG_VERSION"),
                    )
                }

                fn init(settings: String) -> Result<(), wit::Error> {
                    INSTANCE.with(|slot| $crate::__private::aggregate::init(slot, settings))
                }

                fn add(
                    accumulators: wit::PackedBytes,
                    events: wit::Batch,
                    targets: ::std::vec::Vec<u32>,
                ) -> Result<wit::PackedBytes, wit::Error> {
                    INSTANCE.with(|slot| {
                        $crate::__private::aggregate::add(slot, accumulators, events, targets)
                    })
                }

                fn merge(
                    inputs: wit::PackedBytes,
                    group_ends: ::std::vec::Vec<u32>,
                ) -> Result<wit::PackedBytes, wit::Error> {
                    INSTANCE
                        .with(|slot| $crate::__private::aggregate::merge(slot, inputs, group_ends))
                }

                fn finish(
                    accumulators: wit::PackedBytes,
                    firings: wit::WindowFirings,
                ) -> Result<wit::PackedBytes, wit::Error> {
                    INSTANCE.with(|slot| {
                        $crate::__private::aggregate::finish(slot, accumulators, firings)
                    })
                }
            }

            $crate::wit::aggregate::export_aggregate_bindings!(
                WeirPlugin with_types_in $crate::wit::aggregate
            );
        }
    };
}

#[doc(hidden)]
pub fn describe(name: &str, version: &str) -> PluginInfo {
    plugin_info(name, version, &[])
}

#[doc(hidden)]
pub fn init<A: Aggregate>(
    slot: &RefCell<Option<Adapter<A>>>,
    settings: String,
) -> Result<(), WitError> {
    let aggregate = A::new(Settings::new(settings)).map_err(Error::into_wit)?;
    *slot.borrow_mut() = Some(Adapter::new(aggregate));
    Ok(())
}

#[doc(hidden)]
pub fn add<A: Aggregate>(
    slot: &RefCell<Option<Adapter<A>>>,
    accumulators: PackedBytes,
    events: WitBatch,
    targets: Vec<u32>,
) -> Result<PackedBytes, WitError> {
    with_instance(slot, "add", |adapter| {
        adapter.add(accumulators, &batch_from_wit(events), &targets)
    })
}

#[doc(hidden)]
pub fn merge<A: Aggregate>(
    slot: &RefCell<Option<Adapter<A>>>,
    inputs: PackedBytes,
    group_ends: Vec<u32>,
) -> Result<PackedBytes, WitError> {
    with_instance(slot, "merge", |adapter| adapter.merge(&inputs, &group_ends))
}

#[doc(hidden)]
pub fn finish<A: Aggregate>(
    slot: &RefCell<Option<Adapter<A>>>,
    accumulators: PackedBytes,
    firings: WindowFirings,
) -> Result<PackedBytes, WitError> {
    with_instance(slot, "finish", |adapter| {
        adapter.finish(&accumulators, &WindowInfo::all_from_wit(&firings)?)
    })
}
