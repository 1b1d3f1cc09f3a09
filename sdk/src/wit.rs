//! The guest side of the WIT contract: the SDK's one `generate!`. Plugin authors never
//! see these names; the rest of the SDK converts them to its own types.
#![allow(missing_docs, missing_debug_implementations, unused_qualifications)]

wit_bindgen::generate!({
    path: "../wit",
    world: "stateless-processor",
    pub_export_macro: true,
    export_macro_name: "export_bindings",
    default_bindings_module: "weir_sdk::wit",
    generate_all,
});
