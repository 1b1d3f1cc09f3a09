//! Subcommands of the `weir` binary, one module per area.

pub mod deploy;
pub mod plugin_build;
pub mod plugin_new;
pub mod plugin_test;
