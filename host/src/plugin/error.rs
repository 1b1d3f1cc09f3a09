//! Errors of loading a plugin, with what a person needs to fix it: which operator,
//! which file, and what went wrong in words.

use std::path::PathBuf;

/// Why a plugin could not be loaded or started. Each variant names the operator and
/// the file; the message says what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("operator `{operator}`: cannot read plugin {}: {source}", path.display())]
    Read {
        operator: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("operator `{operator}`: plugin {} is not a WebAssembly component: {reason}", path.display())]
    NotAComponent {
        operator: String,
        path: PathBuf,
        reason: String,
    },
    #[error("operator `{operator}`: plugin {} does not compile: {message}", path.display())]
    Compile {
        operator: String,
        path: PathBuf,
        message: String,
    },
    #[error("operator `{operator}`: plugin {} needs an import this host does not provide: {message}", path.display())]
    MissingImport {
        operator: String,
        path: PathBuf,
        message: String,
    },
    #[error("operator `{operator}`: plugin {} does not implement the `{world}` world: {message}", path.display())]
    WrongWorld {
        operator: String,
        path: PathBuf,
        world: String,
        message: String,
    },
    #[error("operator `{operator}`: plugin {plugin} ({}) failed to start: {message}", path.display())]
    Init {
        operator: String,
        plugin: String,
        path: PathBuf,
        message: String,
    },
}
