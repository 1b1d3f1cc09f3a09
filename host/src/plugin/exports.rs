//! The generated bindings of each operator world behind two enums, so that the rest of
//! `plugin/` handles one [`KindPre`] (ready to instantiate) and one [`Exports`] (a live
//! instance's exports) whatever the world.

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::bindings::{
    GuestError, GuestPluginInfo, StatelessProcessor, StatelessProcessorPre, aggregate, keyed,
    window,
};
use super::kind::PluginKind;
use super::store::HostCtx;

/// A component checked against its world, ready to instantiate.
pub(crate) enum KindPre {
    Stateless(StatelessProcessorPre<HostCtx>),
    KeyedProcess(keyed::KeyedProcessPre<HostCtx>),
    WindowAggregate(aggregate::WindowAggregatePre<HostCtx>),
    WindowProcess(window::WindowProcessPre<HostCtx>),
}

impl KindPre {
    /// Checks that `pre`'s component has the exports of `kind`'s world.
    pub(crate) fn new(kind: PluginKind, pre: InstancePre<HostCtx>) -> wasmtime::Result<Self> {
        Ok(match kind {
            PluginKind::Stateless => KindPre::Stateless(StatelessProcessorPre::new(pre)?),
            PluginKind::KeyedProcess => KindPre::KeyedProcess(keyed::KeyedProcessPre::new(pre)?),
            PluginKind::WindowAggregate => {
                KindPre::WindowAggregate(aggregate::WindowAggregatePre::new(pre)?)
            }
            PluginKind::WindowProcess => {
                KindPre::WindowProcess(window::WindowProcessPre::new(pre)?)
            }
        })
    }

    pub(crate) fn kind(&self) -> PluginKind {
        match self {
            KindPre::Stateless(_) => PluginKind::Stateless,
            KindPre::KeyedProcess(_) => PluginKind::KeyedProcess,
            KindPre::WindowAggregate(_) => PluginKind::WindowAggregate,
            KindPre::WindowProcess(_) => PluginKind::WindowProcess,
        }
    }

    pub(crate) fn instantiate(&self, store: &mut Store<HostCtx>) -> wasmtime::Result<Exports> {
        Ok(match self {
            KindPre::Stateless(pre) => Exports::Stateless(pre.instantiate(store)?),
            KindPre::KeyedProcess(pre) => Exports::KeyedProcess(pre.instantiate(store)?),
            KindPre::WindowAggregate(pre) => Exports::WindowAggregate(pre.instantiate(store)?),
            KindPre::WindowProcess(pre) => Exports::WindowProcess(pre.instantiate(store)?),
        })
    }
}

/// The exports of one live instance.
pub(crate) enum Exports {
    Stateless(StatelessProcessor),
    KeyedProcess(keyed::KeyedProcess),
    WindowAggregate(aggregate::WindowAggregate),
    WindowProcess(window::WindowProcess),
}

impl Exports {
    pub(crate) fn describe(&self, store: &mut Store<HostCtx>) -> wasmtime::Result<GuestPluginInfo> {
        match self {
            Exports::Stateless(exports) => exports.weir_operator_processor().call_describe(store),
            Exports::KeyedProcess(exports) => {
                exports.weir_operator_keyed_processor().call_describe(store)
            }
            Exports::WindowAggregate(exports) => {
                exports.weir_operator_aggregator().call_describe(store)
            }
            Exports::WindowProcess(exports) => exports
                .weir_operator_window_processor()
                .call_describe(store),
        }
    }

    pub(crate) fn init(
        &self,
        store: &mut Store<HostCtx>,
        settings_json: &str,
    ) -> wasmtime::Result<Result<(), GuestError>> {
        match self {
            Exports::Stateless(exports) => exports
                .weir_operator_processor()
                .call_init(store, settings_json),
            Exports::KeyedProcess(exports) => exports
                .weir_operator_keyed_processor()
                .call_init(store, settings_json),
            Exports::WindowAggregate(exports) => exports
                .weir_operator_aggregator()
                .call_init(store, settings_json),
            Exports::WindowProcess(exports) => exports
                .weir_operator_window_processor()
                .call_init(store, settings_json),
        }
    }
}
