//! The host side of the WIT contract: the one `bindgen!` of the host. Nothing outside
//! `plugin/` sees the generated names; [`convert`](self) functions below map them to
//! the runtime's own types by moving vectors, never copying events.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "stateless-processor",
});

use self::weir::operator::types as wit;
use crate::batch::{Batch, BatchParts, Header};

pub(crate) use self::weir::operator::log::Level as GuestLogLevel;
pub(crate) use self::weir::operator::types::{
    Error as GuestError, ErrorKind as GuestErrorKind, Outputs as GuestOutputs,
    PluginInfo as GuestPluginInfo,
};

impl From<Batch> for wit::Batch {
    fn from(batch: Batch) -> Self {
        let parts = batch.into_parts();
        wit::Batch {
            timestamps: parts.timestamps,
            values: parts.values,
            value_ends: parts.value_ends,
            keys: parts.keys,
            key_ends: parts.key_ends,
            keyless: parts.keyless,
            headers: parts
                .headers
                .into_iter()
                .map(|header| wit::Header {
                    event: header.event,
                    name: header.name,
                    value: header.value,
                })
                .collect(),
        }
    }
}

/// The columns exactly as the guest returned them: call [`Batch::validate`] before
/// reading events.
impl From<wit::Batch> for Batch {
    fn from(batch: wit::Batch) -> Self {
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
}
