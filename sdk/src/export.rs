//! The export macros of stateless operators, and the glue they expand to between the
//! generated bindings and a [`Processor`](crate::Processor). Only the macros are meant
//! to be used.

use std::cell::RefCell;

use crate::convert::{batch_from_wit, outputs_into_wit};
use crate::processor::{Processor, Settings};
use crate::wit::types::{Batch as WitBatch, Error as WitError, Outputs, PluginInfo};
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
            use $crate::wit::stateless::exports::weir::operator::processor as wit;

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

            $crate::wit::stateless::export_stateless_bindings!(
                WeirPlugin with_types_in $crate::wit::stateless
            );
        }
    };
}

#[doc(hidden)]
pub fn describe<P: Processor>(name: &str, version: &str) -> PluginInfo {
    plugin_info(name, version, P::OUTPUTS)
}

/// The WIT `plugin-info` of a plugin.
pub(crate) fn plugin_info(name: &str, version: &str, outputs: &[&str]) -> PluginInfo {
    PluginInfo {
        name: name.to_owned(),
        version: version.to_owned(),
        outputs: outputs.iter().map(|output| (*output).to_owned()).collect(),
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
    with_instance(slot, "process", |processor| {
        let batch = batch_from_wit(batch);
        let mut out = Output::sized_for(&batch);
        processor.process(&batch, &mut out)?;
        Ok(outputs_into_wit(out))
    })
}

/// Runs `f` on the instance `init` made, as a WIT result.
pub(crate) fn with_instance<P, R>(
    slot: &RefCell<Option<P>>,
    call: &str,
    f: impl FnOnce(&mut P) -> Result<R, Error>,
) -> Result<R, WitError> {
    let mut slot = slot.borrow_mut();
    let instance = slot
        .as_mut()
        .ok_or_else(|| Error::internal(format!("`{call}` called before `init`")))
        .map_err(Error::into_wit)?;
    f(instance).map_err(Error::into_wit)
}
