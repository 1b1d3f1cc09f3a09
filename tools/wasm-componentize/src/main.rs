//! `wasm-componentize`: the two steps of building a C plugin that need the component
//! tooling, as one small binary of the workspace (no `cargo install` of CLIs):
//!
//! - `wasm-componentize bindings --wit DIR --world WORLD --out DIR` writes the C
//!   bindings of a Weir world (wit-bindgen's C generator): `<world>.h`, `<world>.c`
//!   and `<world>_component_type.o`;
//! - `wasm-componentize component --wit DIR --world WORLD MODULE.wasm -o OUT.wasm`
//!   turns the core module a C compiler made (wasm32-wasi, preview1 imports) into a
//!   component: it embeds the world's type information and adapts the preview1
//!   imports with the WASI reactor adapter of the wasmtime release the host runs.
//!
//! `scripts/build-lang-plugins` and the C templates (`sdk/templates/c/`) call it
//! through `cargo run --release -p wasm-componentize`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{Resolve, WorldId};

const USAGE: &str = "usage:\n  wasm-componentize bindings --wit DIR --world WORLD --out DIR\n  \
                     wasm-componentize component --wit DIR --world WORLD MODULE.wasm -o OUT.wasm";

/// The command line, parsed.
struct Args {
    command: String,
    wit: PathBuf,
    world: String,
    out: PathBuf,
    module: Option<PathBuf>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut arguments = std::env::args().skip(1);
    let command = arguments.next().context(USAGE)?;
    let (mut wit, mut world, mut out, mut module) = (None, None, None, None);
    while let Some(argument) = arguments.next() {
        let mut value = || {
            arguments
                .next()
                .with_context(|| format!("{argument} needs a value"))
        };
        match argument.as_str() {
            "--wit" => wit = Some(PathBuf::from(value()?)),
            "--world" => world = Some(value()?),
            "--out" | "-o" => out = Some(PathBuf::from(value()?)),
            _ if !argument.starts_with('-') && module.is_none() => {
                module = Some(PathBuf::from(argument))
            }
            _ => bail!("unexpected argument `{argument}`\n{USAGE}"),
        }
    }
    Ok(Args {
        command,
        wit: wit.context("--wit is required")?,
        world: world.context("--world is required")?,
        out: out.context("--out is required")?,
        module,
    })
}

fn load_world(wit: &Path, world: &str) -> anyhow::Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit)
        .with_context(|| format!("reading the WIT in {}", wit.display()))?;
    let world = resolve.select_world(&[package], Some(world))?;
    Ok((resolve, world))
}

/// Writes the C bindings of `world` into `out`.
fn bindings(wit: &Path, world: &str, out: &Path) -> anyhow::Result<()> {
    let (mut resolve, world) = load_world(wit, world)?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(out)?;
    for (name, contents) in files.iter() {
        std::fs::write(out.join(name), contents)
            .with_context(|| format!("writing {}", out.join(name).display()))?;
    }
    Ok(())
}

/// Turns the core module at `module` into a component of `world` at `out`.
fn component(wit: &Path, world: &str, module: &Path, out: &Path) -> anyhow::Result<()> {
    let (resolve, world) = load_world(wit, world)?;
    let mut bytes =
        std::fs::read(module).with_context(|| format!("reading {}", module.display()))?;
    // Embeds the world's types; a module linked with `<world>_component_type.o` has
    // them already, and the two agree (the encoder merges them).
    wit_component::embed_component_metadata(
        &mut bytes,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )?;
    let component = ComponentEncoder::default()
        .module(&bytes)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .validate(true)
        .encode()
        .with_context(|| format!("making a component of {}", module.display()))?;
    std::fs::write(out, component).with_context(|| format!("writing {}", out.display()))
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    match (args.command.as_str(), &args.module) {
        ("bindings", None) => bindings(&args.wit, &args.world, &args.out),
        ("component", Some(module)) => component(&args.wit, &args.world, module, &args.out),
        _ => bail!("{USAGE}"),
    }
}
