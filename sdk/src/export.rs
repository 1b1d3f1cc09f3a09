//! The export macros, and the glue they expand to between the generated bindings and
//! a [`Processor`](crate::Processor). Only the macros are meant to be used.

use std::cell::RefCell;

use weir_batch::{Batch, BatchParts, Header};

use crate::processor::{Processor, Settings};
use crate::wit::weir::operator::types::{
    Batch as WitBatch, Error as WitError, Header as WitHeader, NamedBatch, Outputs, PluginInfo,
    Rejection,
};
use crate::{Error, Output};

/// Exports a [`Processor`](crate::Processor) as the plugin's operator.
///
/// ```
/// use weir_sdk::{Batch, Error, Output, Processor, Settings};
///
/// struct Upper;
///
/// impl Processor for Upper {
///     fn init(_settings: Settings) -> Result<Self, Error> {
///         Ok(Upper)
///     }
///
///     fn process(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error> {
///         for event in batch.iter() {
///             out.emit_value(&event, &event.value.to_ascii_uppercase());
///         }
///         Ok(())
///     }
/// }
///
/// weir_sdk::export_processor!(Upper);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_processor {
    ($processor:ty) => {
        $crate::__export!($processor);
    };
}

/// Exports a [`Filter`](crate::Filter) as the plugin's operator.
#[macro_export]
macro_rules! export_filter {
    ($filter:ty) => {
        $crate::__export!($crate::FilterProcessor<$filter>);
    };
}

/// Exports a [`Map`](crate::Map) as the plugin's operator.
#[macro_export]
macro_rules! export_map {
    ($map:ty) => {
        $crate::__export!($crate::MapProcessor<$map>);
    };
}

/// Exports a [`FlatMap`](crate::FlatMap) as the plugin's operator.
#[macro_export]
macro_rules! export_flat_map {
    ($flat_map:ty) => {
        $crate::__export!($crate::FlatMapProcessor<$flat_map>);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export {
    ($processor:ty) => {
        #[doc(hidden)]
        mod __weir_plugin_export {
            #[allow(unused_imports)]
            use super::*;
            use $crate::wit::exports::weir::operator::processor as wit;

            ::std::thread_local! {
                static INSTANCE: ::std::cell::RefCell<::std::option::Option<$processor>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }

            struct WeirPlugin;

            impl wit::Guest for WeirPlugin {
                fn describe() -> wit::PluginInfo {
                    $crate::__private::describe::<$processor>(
                        env!("CARGO_PKG_NAME"),
                        env!("CARGO_PKG_VERSION"),
                    )
                }

                fn init(settings: String) -> Result<(), wit::Error> {
                    INSTANCE.with(|slot| $crate::__private::init(slot, settings))
                }

                fn process(batch: wit::Batch) -> Result<wit::Outputs, wit::Error> {
                    INSTANCE.with(|slot| $crate::__private::process(slot, batch))
                }
            }

            $crate::wit::export_bindings!(WeirPlugin with_types_in $crate::wit);
        }
    };
}

#[doc(hidden)]
pub fn describe<P: Processor>(name: &str, version: &str) -> PluginInfo {
    PluginInfo {
        name: name.to_owned(),
        version: version.to_owned(),
        outputs: P::OUTPUTS
            .iter()
            .map(|output| (*output).to_owned())
            .collect(),
    }
}

#[doc(hidden)]
pub fn init<P: Processor>(slot: &RefCell<Option<P>>, settings: String) -> Result<(), WitError> {
    let processor = P::init(Settings::new(settings)).map_err(Error::into_wit)?;
    *slot.borrow_mut() = Some(processor);
    Ok(())
}

#[doc(hidden)]
pub fn process<P: Processor>(
    slot: &RefCell<Option<P>>,
    batch: WitBatch,
) -> Result<Outputs, WitError> {
    let mut slot = slot.borrow_mut();
    let processor = slot
        .as_mut()
        .ok_or_else(|| Error::internal("`process` called before `init`").into_wit())?;
    let batch = batch_from_wit(batch);
    let mut out = Output::sized_for(&batch);
    processor
        .process(&batch, &mut out)
        .map_err(Error::into_wit)?;
    Ok(Outputs {
        main: batch_into_wit(out.main),
        named: out
            .named
            .into_iter()
            .map(|(output, events)| NamedBatch {
                output,
                events: batch_into_wit(events),
            })
            .collect(),
        rejected: out
            .rejected
            .into_iter()
            .map(|(event, reason)| Rejection { event, reason })
            .collect(),
    })
}

/// The host guarantees the invariants of batches it sends (see `wit/types.wit`).
fn batch_from_wit(batch: WitBatch) -> Batch {
    Batch::from_parts(BatchParts {
        timestamps: batch.timestamps,
        values: batch.values,
        value_ends: batch.value_ends,
        keys: batch.keys,
        key_ends: batch.key_ends,
        keyless: batch.keyless,
        headers: batch
            .headers
            .into_iter()
            .map(|header| Header {
                event: header.event,
                name: header.name,
                value: header.value,
            })
            .collect(),
    })
}

fn batch_into_wit(batch: Batch) -> WitBatch {
    let parts = batch.into_parts();
    WitBatch {
        timestamps: parts.timestamps,
        values: parts.values,
        value_ends: parts.value_ends,
        keys: parts.keys,
        key_ends: parts.key_ends,
        keyless: parts.keyless,
        headers: parts
            .headers
            .into_iter()
            .map(|header| WitHeader {
                event: header.event,
                name: header.name,
                value: header.value,
            })
            .collect(),
    }
}
