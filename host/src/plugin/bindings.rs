//! The host side of the WIT contract: the one `bindgen!` of the host. Nothing outside
//! `plugin/` sees the generated names; [`convert`](self) functions below map them to
//! the runtime's own types by moving vectors, never copying events.

//!
//! One `bindgen!` per world; the interfaces the worlds share (`types`, `log`, `metrics`,
//! `inference`, `state`, `windows`) are generated once, in the first world that has them, and the
//! other worlds reuse them through `with`, so the host implements each interface once.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "stateless-processor",
    // The resources of `inference` are host values in the instance's resource table;
    // looking one up can fail, so those calls may trap.
    imports: { "weir:operator/inference": trappable },
    with: {
        "weir:operator/inference.tensor": crate::model::ModelTensor,
        "weir:operator/inference.graph": crate::plugin::inference::GraphHandle,
        "weir:operator/inference.graph-execution-context": crate::plugin::inference::ExecutionContext,
    },
});

/// The `keyed-process` world: adds `state`, `timers` and the `keyed-processor` export.
pub(crate) mod keyed {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "keyed-process",
        with: {
            "weir:operator/types": super::weir::operator::types,
            "weir:operator/log": super::weir::operator::log,
            "weir:operator/metrics": super::weir::operator::metrics,
            "weir:operator/inference": super::weir::operator::inference,
        },
    });
}

/// The `window-aggregate` world: adds `windows` and the `aggregator` export.
pub(crate) mod aggregate {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "window-aggregate",
        with: {
            "weir:operator/types": super::weir::operator::types,
            "weir:operator/log": super::weir::operator::log,
            "weir:operator/metrics": super::weir::operator::metrics,
        },
    });
}

/// The `window-process` world: the `window-processor` export, with `state`.
pub(crate) mod window {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "window-process",
        with: {
            "weir:operator/types": super::weir::operator::types,
            "weir:operator/log": super::weir::operator::log,
            "weir:operator/metrics": super::weir::operator::metrics,
            "weir:operator/state": super::keyed::weir::operator::state,
            "weir:operator/windows": super::aggregate::weir::operator::windows,
            "weir:operator/inference": super::weir::operator::inference,
        },
    });
}

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
                    name: header.name.into_string(),
                    value: header.value.into_vec(),
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
                    name: header.name.into(),
                    value: header.value.into(),
                })
                .collect(),
        })
    }
}
