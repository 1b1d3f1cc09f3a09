//! Bindings of the `window-process` world.

wit_bindgen::generate!({
    path: "../wit",
    world: "window-process",
    pub_export_macro: true,
    export_macro_name: "export_window_bindings",
    default_bindings_module: "weir_sdk::wit::window",
    with: {
        "weir:operator/types@0.1.0": crate::wit::types,
        "weir:operator/log@0.1.0": crate::wit::log,
        "weir:operator/metrics@0.1.0": crate::wit::metrics,
        "weir:operator/inference@0.1.0": crate::wit::inference,
        "weir:operator/state@0.1.0": crate::wit::state,
        "weir:operator/windows@0.1.0": crate::wit::windows,
    },
    generate_all,
});
