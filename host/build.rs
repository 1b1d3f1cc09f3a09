//! Embeds the plugin project templates (`sdk/templates/<lang>/<kind>/`) and the WIT
//! contract (`wit/`) into the `weir` binary, for `weir new`: templates added there are
//! picked up by the next build with no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Directories inside a template that are build output, never template files.
const SKIPPED: [&str; 5] = ["target", "build", "node_modules", "__pycache__", ".venv"];

fn main() -> std::io::Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.parent().unwrap_or(Path::new("..")).to_path_buf();
    let templates = root.join("sdk/templates");
    let wit = root.join("wit");
    println!("cargo:rerun-if-changed={}", templates.display());
    println!("cargo:rerun-if-changed={}", wit.display());
    let mut code = String::new();
    for (name, dir) in [("TEMPLATE_FILES", &templates), ("WIT_FILES", &wit)] {
        let mut files = Vec::new();
        if dir.is_dir() {
            collect(dir, dir, &mut files)?;
        }
        files.sort();
        let _ = writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[");
        for (relative, path) in files {
            let _ = writeln!(code, "    ({relative:?}, include_bytes!({path:?})),");
        }
        let _ = writeln!(code, "];");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    std::fs::write(out.join("embedded_templates.rs"), code)
}

/// Every file under `dir` as (path relative to `base` with `/`, absolute path).
fn collect(base: &Path, dir: &Path, files: &mut Vec<(String, String)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                collect(base, &path, files)?;
            }
        } else if let Ok(relative) = path.strip_prefix(base) {
            let relative: Vec<String> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((relative.join("/"), path.display().to_string()));
        }
    }
    Ok(())
}
