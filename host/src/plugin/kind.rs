//! [`PluginKind`]: which of the operator worlds a component implements, told from the
//! interface it exports. The pipeline file does not say it; the component does.

use wasmtime::Engine;
use wasmtime::component::Component;

/// The operator worlds of `wit/worlds.wit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// `stateless-processor`: map, filter, flat-map over batches.
    Stateless,
    /// `keyed-process`: per-key state and timers.
    KeyedProcess,
    /// `window-aggregate`: an incremental window aggregate.
    WindowAggregate,
    /// `window-process`: a function over all events of a window.
    WindowProcess,
}

impl PluginKind {
    /// Every kind, in the order they are looked for.
    pub const ALL: [PluginKind; 4] = [
        PluginKind::Stateless,
        PluginKind::KeyedProcess,
        PluginKind::WindowAggregate,
        PluginKind::WindowProcess,
    ];

    /// The WIT world, as a person writes it.
    pub fn world(self) -> &'static str {
        match self {
            PluginKind::Stateless => "weir:operator/stateless-processor@0.1.0",
            PluginKind::KeyedProcess => "weir:operator/keyed-process@0.1.0",
            PluginKind::WindowAggregate => "weir:operator/window-aggregate@0.1.0",
            PluginKind::WindowProcess => "weir:operator/window-process@0.1.0",
        }
    }

    /// The interface a component of this kind exports.
    pub fn export(self) -> &'static str {
        match self {
            PluginKind::Stateless => "weir:operator/processor@0.1.0",
            PluginKind::KeyedProcess => "weir:operator/keyed-processor@0.1.0",
            PluginKind::WindowAggregate => "weir:operator/aggregator@0.1.0",
            PluginKind::WindowProcess => "weir:operator/window-processor@0.1.0",
        }
    }

    /// A short name for messages: `stateless`, `keyed-process`, ...
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Stateless => "stateless",
            PluginKind::KeyedProcess => "keyed-process",
            PluginKind::WindowAggregate => "window-aggregate",
            PluginKind::WindowProcess => "window-process",
        }
    }

    /// The kind `component` implements: the one operator interface it exports.
    ///
    /// # Errors
    /// When it exports none, or more than one (which world would it be?), in words.
    pub fn of(component: &Component, engine: &Engine) -> Result<PluginKind, String> {
        let exports: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let found: Vec<PluginKind> = PluginKind::ALL
            .into_iter()
            .filter(|kind| exports.iter().any(|export| export == kind.export()))
            .collect();
        match found.as_slice() {
            [kind] => Ok(*kind),
            [] => Err(format!(
                "it exports none of the operator interfaces ({}); it exports {}",
                PluginKind::ALL.map(PluginKind::export).join(", "),
                if exports.is_empty() {
                    "nothing".to_owned()
                } else {
                    exports.join(", ")
                }
            )),
            several => Err(format!(
                "it exports several operator interfaces ({}); a plugin implements one world",
                several
                    .iter()
                    .map(|kind| kind.export())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
