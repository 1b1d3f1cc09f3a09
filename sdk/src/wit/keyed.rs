//! Bindings of the `keyed-process` world. Home of the shared `state` module.

wit_bindgen::generate!({
    path: "../wit",
    world: "keyed-process",
    pub_export_macro: true,
    export_macro_name: "export_keyed_bindings",
    default_bindings_module: "weir_sdk::wit::keyed",
    with: {
        "weir:operator/types@0.1.0": crate::wit::types,
        "weir:operator/log@0.1.0": crate::wit::log,
        "weir:operator/metrics@0.1.0": crate::wit::metrics,
        "weir:operator/inference@0.1.0": crate::wit::inference,
    },
    generate_all,
});
