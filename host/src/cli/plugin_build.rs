//! `weir build`: builds a plugin project with its `[build] command` and checks the
//! component it produced.
//!
//! ```text
//! weir build [PROJECT_DIR]
//! ```

use std::path::PathBuf;

use clap::Args;
use weir_host::harness::project::Project;
use weir_host::harness::project_build::build_project;
use weir_host::plugin::ComponentCache;

/// `weir build`'s arguments.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The plugin project (holding weir-project.toml); default: the current directory.
    project: Option<PathBuf>,
    /// Where compiled components are cached.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// Runs `weir build`.
///
/// # Errors
/// When the build fails or does not produce a component of the project's kind.
pub fn run(args: BuildArgs) -> anyhow::Result<()> {
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    let project = Project::load(&dir)?;
    let cache = match args.cache_dir {
        Some(dir) => ComponentCache::new(dir),
        None => ComponentCache::default_location(),
    };
    let kind = build_project(&project, &cache)?;
    println!(
        "built {} ({} plugin, world {})",
        project.component().display(),
        project.file.kind.name(),
        kind.world()
    );
    Ok(())
}
