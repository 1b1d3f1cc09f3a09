//! `weir new`: a plugin project from a template embedded in the binary
//! (`sdk/templates/<lang>/<kind>/`, by `host/build.rs`), with a copy of the WIT
//! contract in its `wit/` folder.
//!
//! Every file of the template is copied, with these placeholders replaced in file
//! contents and names: `{{name}}` (as given, e.g. `fraud-score`), `{{name_snake}}`
//! (`fraud_score`), `{{wit_dir}}` (the absolute path of the project's `wit/` copy),
//! `{{weir_sdk}}` (a Cargo dependency on weir-sdk, as a TOML inline table: a path to
//! the SDK sources, see [`SdkSource`]) and `{{weir_home}}` (the Weir checkout around
//! those sources, whose `sdk/<lang>/` layers and `.tools/` the Python, JavaScript and C
//! builds use; the project's folder when the SDK comes from git).

use std::path::{Path, PathBuf};

use super::HarnessError;
use super::project::ProjectKind;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_templates.rs"));
}

/// Where the weir-sdk dependency of a Rust project comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// A directory holding weir-sdk's sources (a checkout's `sdk/`).
    Path(PathBuf),
    /// A git repository holding the Weir workspace.
    Git(String),
}

impl SdkSource {
    /// The SDK this binary was built from, if its sources are still where they were;
    /// otherwise the workspace's repository.
    pub fn default_for_this_build() -> Self {
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
        match sdk.join("Cargo.toml").is_file() {
            true => SdkSource::Path(sdk.canonicalize().unwrap_or(sdk)),
            false => SdkSource::Git(env!("CARGO_PKG_REPOSITORY").to_owned()),
        }
    }

    /// The dependency as a TOML inline table.
    pub fn to_toml(&self) -> String {
        let quoted = |text: &str| toml::Value::String(text.to_owned()).to_string();
        match self {
            SdkSource::Path(path) => {
                format!("{{ path = {} }}", quoted(&path.display().to_string()))
            }
            SdkSource::Git(url) => format!("{{ git = {} }}", quoted(url)),
        }
    }
}

/// The languages with at least one template, sorted.
pub fn languages() -> Vec<&'static str> {
    let mut langs: Vec<&str> = embedded::TEMPLATE_FILES
        .iter()
        .filter_map(|(path, _)| path.split('/').next())
        .collect();
    langs.dedup();
    langs
}

/// The files of template `lang`/`kind`: (path inside the template, contents).
pub fn template_files(lang: &str, kind: ProjectKind) -> Vec<(&'static str, &'static [u8])> {
    let prefix = format!("{lang}/{}/", kind.name());
    embedded::TEMPLATE_FILES
        .iter()
        .filter_map(|(path, bytes)| {
            path.strip_prefix(prefix.as_str())
                .map(|rest| (rest, *bytes))
        })
        .collect()
}

/// Checks a project name: lower-case letters, digits and `-`, starting with a letter
/// (a Cargo package, a Python module and a WIT name alike).
///
/// # Errors
/// What is wrong with it.
pub fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|first| first.is_ascii_lowercase());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !starts_well || !rest_ok || name.ends_with('-') || name.contains("--") {
        return Err(format!(
            "`{name}` is not a valid plugin name: use lower-case letters, digits and single `-`, starting with a letter (e.g. `fraud-score`)"
        ));
    }
    Ok(())
}

/// What `weir new` makes.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub lang: String,
    pub kind: ProjectKind,
    pub name: String,
    /// The folder the project folder is made in.
    pub parent: PathBuf,
    pub sdk: SdkSource,
}

/// Writes the project; returns its directory.
///
/// # Errors
/// An invalid name, a language or kind without a template, a directory that exists
/// and is not empty, or a file that cannot be written.
pub fn create(new: &NewProject) -> Result<PathBuf, HarnessError> {
    check_name(&new.name).map_err(HarnessError::Config)?;
    let files = template_files(&new.lang, new.kind);
    if files.is_empty() {
        let kinds: Vec<&str> = ProjectKind::ALL
            .into_iter()
            .filter(|kind| !template_files(&new.lang, *kind).is_empty())
            .map(ProjectKind::name)
            .collect();
        return Err(HarnessError::Config(if kinds.is_empty() {
            format!(
                "no templates for language `{}`; this weir has templates for {}",
                new.lang,
                languages().join(", ")
            )
        } else {
            format!(
                "no `{}` template for language `{}`; it has {}",
                new.kind.name(),
                new.lang,
                kinds.join(", ")
            )
        }));
    }
    let dir = new.parent.join(&new.name);
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(HarnessError::Config(format!(
            "{} exists and is not empty; choose another name or `--dir`",
            dir.display()
        )));
    }
    let io = |path: &Path, error: std::io::Error| {
        HarnessError::Io(format!("{}: {error}", path.display()))
    };
    let wit_dir = dir.join("wit");
    std::fs::create_dir_all(&wit_dir).map_err(|error| io(&wit_dir, error))?;
    let wit_dir = wit_dir
        .canonicalize()
        .map_err(|error| io(&wit_dir, error))?;
    for (path, bytes) in embedded::WIT_FILES {
        let target = wit_dir.join(path);
        std::fs::write(&target, bytes).map_err(|error| io(&target, error))?;
    }
    let replacements = [
        ("{{name}}", new.name.clone()),
        ("{{name_snake}}", new.name.replace('-', "_")),
        ("{{wit_dir}}", wit_dir.display().to_string()),
        ("{{weir_sdk}}", new.sdk.to_toml()),
        (
            "{{weir_home}}",
            weir_home(&new.sdk, &dir).display().to_string(),
        ),
    ];
    let fill = |text: &str| {
        replacements
            .iter()
            .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
    };
    for (path, bytes) in files {
        let target = dir.join(fill(path));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|error| io(parent, error))?;
        }
        let contents = match std::str::from_utf8(bytes) {
            Ok(text) => fill(text).into_bytes(),
            Err(_) => bytes.to_vec(),
        };
        std::fs::write(&target, contents).map_err(|error| io(&target, error))?;
    }
    Ok(dir)
}

/// The Weir checkout the SDK sources are in (see the module docs).
fn weir_home(sdk: &SdkSource, project: &Path) -> PathBuf {
    match sdk {
        SdkSource::Path(sdk) => sdk.parent().unwrap_or(sdk).to_path_buf(),
        SdkSource::Git(_) => project.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("fraud-score").is_ok());
        assert!(check_name("a1").is_ok());
        for bad in ["", "Fraud", "1a", "a_b", "a-", "a--b", "a b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_kind_has_a_rust_template_with_a_project_file_and_a_test_case() {
        for kind in ProjectKind::ALL {
            let files: Vec<&str> = template_files("rust", kind)
                .into_iter()
                .map(|(path, _)| path)
                .collect();
            assert!(files.contains(&"weir-project.toml"), "{kind:?}: {files:?}");
            assert!(
                files
                    .iter()
                    .any(|path| path.starts_with("tests/") && path.ends_with(".input.jsonl")),
                "{kind:?}: {files:?}"
            );
        }
    }
}
