//! Subcommands of the `weir` binary that live outside `main.rs`, one module per area.

pub mod deploy;
