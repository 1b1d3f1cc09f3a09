//! Bindings of the `window-aggregate` world. Home of the shared `windows` module.

wit_bindgen::generate!({
    path: "../wit",
    world: "window-aggregate",
    pub_export_macro: true,
    export_macro_name: "export_aggregate_bindings",
    default_bindings_module: "weir_sdk::wit::aggregate",
    with: {
        "weir:operator/types@0.1.0": crate::wit::types,
        "weir:operator/log@0.1.0": crate::wit::log,
        "weir:operator/metrics@0.1.0": crate::wit::metrics,
    },
    generate_all,
});
