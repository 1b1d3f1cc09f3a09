//! Bindings of the `stateless-processor` world. Also the home of the shared `types`,
//! `log`, `metrics` and `inference` modules.

wit_bindgen::generate!({
    path: "../wit",
    world: "stateless-processor",
    pub_export_macro: true,
    export_macro_name: "export_stateless_bindings",
    default_bindings_module: "weir_sdk::wit::stateless",
    generate_all,
});
