//! `weir build`: runs a project's `[build] command` in its directory, then checks that
//! it produced what `component` names — a Wasm component (not a core module) of the
//! world of the project's kind. The check compiles the component into the cache, so
//! the `weir test` that follows loads it at once.

use std::process::Command;

use super::HarnessError;
use super::project::Project;
use crate::plugin::engine::WasmEngine;
use crate::plugin::{ComponentCache, PluginKind};

/// Runs the build of `project` (its output goes to this process's stdout and stderr)
/// and checks the component.
///
/// # Errors
/// When the command cannot start or fails, or the component is missing, not a
/// component, or of another world.
pub fn build_project(
    project: &Project,
    cache: &ComponentCache,
) -> Result<PluginKind, HarnessError> {
    let command = &project.file.build.command;
    let (program, args) = command
        .split_first()
        .ok_or_else(|| HarnessError::Config("`[build] command` is empty".into()))?;
    let status = Command::new(program)
        .args(args)
        .current_dir(&project.dir)
        .status()
        .map_err(|error| {
            HarnessError::Io(format!(
                "cannot run `{}` in {}: {error}",
                command.join(" "),
                project.dir.display()
            ))
        })?;
    if !status.success() {
        return Err(HarnessError::Config(format!(
            "the build command `{}` failed ({status})",
            command.join(" ")
        )));
    }
    check_component(project, cache)
}

/// Checks that the project's component exists and implements its kind's world.
///
/// # Errors
/// As for [`build_project`].
pub fn check_component(
    project: &Project,
    cache: &ComponentCache,
) -> Result<PluginKind, HarnessError> {
    let path = project.component();
    let bytes = std::fs::read(&path).map_err(|error| {
        HarnessError::Io(format!(
            "{}: {error}: the build did not produce the `component` of {}",
            path.display(),
            super::project::PROJECT_FILE
        ))
    })?;
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(HarnessError::Plugin(format!(
            "{}: not WebAssembly (no magic number)",
            path.display()
        )));
    }
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(HarnessError::Plugin(format!(
            "{}: a core Wasm module, not a component: build for `wasm32-wasip2` or wrap it with `wasm-tools component new`",
            path.display()
        )));
    }
    let engine = WasmEngine::new().map_err(|error| HarnessError::Engine(format!("{error:#}")))?;
    let (component, _) = cache
        .load(engine.engine(), &bytes)
        .map_err(|error| HarnessError::Plugin(format!("{}: {error:#}", path.display())))?;
    let found = PluginKind::of(&component, engine.engine())
        .map_err(|why| HarnessError::Plugin(format!("{}: {why}", path.display())))?;
    let wanted = project.file.kind.plugin_kind();
    if found != wanted {
        return Err(HarnessError::Plugin(format!(
            "{}: implements {}, but the project's kind `{}` is {}",
            path.display(),
            found.world(),
            project.file.kind.name(),
            wanted.world()
        )));
    }
    Ok(found)
}
