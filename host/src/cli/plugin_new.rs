//! `weir new`: a plugin project from a template, ready for `weir build` and `weir test`.
//!
//! ```text
//! weir new --lang rust --kind keyed fraud-score [--dir PATH] [--sdk PATH]
//! ```

use std::path::PathBuf;

use clap::Args;
use weir_host::harness::project::ProjectKind;
use weir_host::harness::scaffold::{self, NewProject, SdkSource};

/// `weir new`'s arguments.
#[derive(Args, Debug)]
pub struct NewArgs {
    /// The project's (and the plugin's) name, e.g. `fraud-score`.
    name: String,
    /// The language: rust, python, js or c (those this weir has templates for).
    #[arg(long, default_value = "rust")]
    lang: String,
    /// map (stateless), keyed (state and timers), aggregate (window aggregate) or
    /// window (window process function).
    #[arg(long, value_parser = ProjectKind::parse)]
    kind: ProjectKind,
    /// The folder to make the project folder in (default: the current one).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Rust: the weir-sdk sources to depend on (a checkout's `sdk/`); default: those
    /// this weir was built from, if present.
    #[arg(long)]
    sdk: Option<PathBuf>,
}

/// Runs `weir new`.
///
/// # Errors
/// As [`scaffold::create`] says.
pub fn run(args: NewArgs) -> anyhow::Result<()> {
    let sdk = match args.sdk {
        Some(path) => SdkSource::Path(std::path::absolute(&path)?),
        None => SdkSource::default_for_this_build(),
    };
    if let (SdkSource::Git(url), "rust") = (&sdk, args.lang.as_str()) {
        eprintln!(
            "note: the weir-sdk sources this weir was built from are gone; the project depends on {url} (or pass --sdk PATH to a checkout's sdk/)"
        );
    }
    let dir = scaffold::create(&NewProject {
        lang: args.lang.clone(),
        kind: args.kind,
        name: args.name.clone(),
        parent: args.dir,
        sdk,
    })?;
    println!(
        "created {} ({} {} plugin)\nnext: weir build {0} && weir test {0}",
        dir.display(),
        args.lang,
        args.kind.name()
    );
    Ok(())
}
