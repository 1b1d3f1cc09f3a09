//! `weir-project.toml`: a plugin project as `weir new` makes it and `weir build` and
//! `weir test` read it.
//!
//! ```toml
//! name = "fraud-score"
//! kind = "keyed"                       # map | keyed | aggregate | window
//! component = "build/fraud_score.wasm" # what the build produces, relative to the project
//!
//! [build]
//! command = ["sh", "build.sh"]         # run in the project directory by `weir build`
//!
//! [test]                               # how `weir test` runs tests/*.input.jsonl
//! settings = { threshold = 0.8 }       # handed to `init` (as JSON)
//! key_by = "user"                      # a field path or "$key"
//! memory_limit_mib = 64                # limits, as in a pipeline file
//! deadline_ms = 1000
//! backend = "memory"                   # or "rocksdb"
//! [test.window]                        # window kinds: as a pipeline's [operator.window]
//! type = "tumbling"
//! size_ms = 60000
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::HarnessError;
use super::driver::HarnessConfig;
use crate::config::ConfigError;
use crate::config::window::WindowSection;
use crate::plugin::PluginKind;
use crate::state::BackendKind;

/// The name of a project's file.
pub const PROJECT_FILE: &str = "weir-project.toml";

/// What a plugin project builds: the four operator kinds, by the names `weir new`
/// takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectKind {
    /// A stateless map/filter/flat-map: world `stateless-processor`.
    Map,
    /// A keyed process function: world `keyed-process`.
    Keyed,
    /// A window aggregate: world `window-aggregate`.
    Aggregate,
    /// A window process function: world `window-process`.
    Window,
}

impl ProjectKind {
    /// Every kind, in the order `weir new --help` lists them.
    pub const ALL: [ProjectKind; 4] = [
        ProjectKind::Map,
        ProjectKind::Keyed,
        ProjectKind::Aggregate,
        ProjectKind::Window,
    ];

    /// The world a component of this kind implements.
    pub fn plugin_kind(self) -> PluginKind {
        match self {
            ProjectKind::Map => PluginKind::Stateless,
            ProjectKind::Keyed => PluginKind::KeyedProcess,
            ProjectKind::Aggregate => PluginKind::WindowAggregate,
            ProjectKind::Window => PluginKind::WindowProcess,
        }
    }

    /// The name in project files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ProjectKind::Map => "map",
            ProjectKind::Keyed => "keyed",
            ProjectKind::Aggregate => "aggregate",
            ProjectKind::Window => "window",
        }
    }

    /// The kind named `name`.
    ///
    /// # Errors
    /// When `name` is not a kind; the message lists them.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                format!("unknown kind `{name}`: expected one of map, keyed, aggregate, window")
            })
    }
}

/// `[build]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSection {
    /// The program and its arguments, run in the project directory.
    pub command: Vec<String>,
}

/// `[test]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSection {
    #[serde(default)]
    pub settings: toml::Table,
    pub key_by: Option<String>,
    pub window: Option<WindowSection>,
    pub memory_limit_mib: Option<usize>,
    pub deadline_ms: Option<u64>,
    #[serde(default)]
    pub backend: BackendKind,
}

/// `weir-project.toml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    pub name: String,
    pub kind: ProjectKind,
    pub component: PathBuf,
    pub build: BuildSection,
    #[serde(default)]
    pub test: TestSection,
}

/// A project read from its directory.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub file: ProjectFile,
}

impl Project {
    /// Reads `dir/weir-project.toml`.
    ///
    /// # Errors
    /// When it is missing, or not valid: the line and what was expected.
    pub fn load(dir: &Path) -> Result<Self, HarnessError> {
        let path = dir.join(PROJECT_FILE);
        let text = std::fs::read_to_string(&path).map_err(|error| {
            HarnessError::Io(format!(
                "{}: {error} (is {} a plugin project? `weir new` makes one)",
                path.display(),
                dir.display()
            ))
        })?;
        let file: ProjectFile = toml::from_str(&text).map_err(|error| {
            HarnessError::Config(
                ConfigError::at(
                    &path,
                    &text,
                    error.span().map(|span| span.start),
                    error.message().trim(),
                )
                .to_string(),
            )
        })?;
        if file.build.command.is_empty() {
            return Err(HarnessError::Config(format!(
                "{}: `[build] command` is empty: give the program and its arguments",
                path.display()
            )));
        }
        Ok(Project {
            dir: dir.to_path_buf(),
            file,
        })
    }

    /// The component the build produces.
    pub fn component(&self) -> PathBuf {
        self.dir.join(&self.file.component)
    }

    /// The harness configuration of `[test]`.
    ///
    /// # Errors
    /// When the window or the limits are not valid.
    pub fn harness_config(&self) -> Result<HarnessConfig, HarnessError> {
        let test = &self.file.test;
        let error = |message: String| {
            HarnessError::Config(format!(
                "{}: {message}",
                self.dir.join(PROJECT_FILE).display()
            ))
        };
        let mut config = HarnessConfig::new(self.component());
        config.kind = Some(self.file.kind.plugin_kind());
        config.settings_json = serde_json::to_string(&test.settings)
            .map_err(|why| error(format!("`[test] settings`: {why}")))?;
        config.key_by = test.key_by.clone();
        config.backend = test.backend;
        config.window = test
            .window
            .as_ref()
            .map(|window| {
                window
                    .to_spec()
                    .map_err(|(key, why)| error(format!("`[test.window] {key}`: {why}")))
            })
            .transpose()?;
        if let Some(mib) = test.memory_limit_mib {
            config.limits.memory_bytes =
                mib.checked_mul(1 << 20)
                    .filter(|_| mib > 0)
                    .ok_or_else(|| {
                        error("`memory_limit_mib` must be at least 1 and fit in memory".into())
                    })?;
        }
        if let Some(ms) = test.deadline_ms {
            if ms == 0 {
                return Err(error("`deadline_ms` must be at least 1".into()));
            }
            config.limits.deadline = Duration::from_millis(ms);
        }
        let window_kind = matches!(self.file.kind, ProjectKind::Aggregate | ProjectKind::Window);
        if window_kind && config.window.is_none() {
            return Err(error(format!(
                "a {} plugin needs a `[test.window]` table (as a pipeline's `[operator.window]`)",
                self.file.kind.name()
            )));
        }
        Ok(config)
    }

    /// The test cases: `tests/*.input.jsonl`, by name, each with its expected file.
    ///
    /// # Errors
    /// When `tests/` cannot be read.
    pub fn cases(&self) -> Result<Vec<(PathBuf, PathBuf)>, HarnessError> {
        let tests = self.dir.join("tests");
        let entries = std::fs::read_dir(&tests)
            .map_err(|error| HarnessError::Io(format!("{}: {error}", tests.display())))?;
        let mut cases = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|error| HarnessError::Io(format!("{}: {error}", tests.display())))?
                .path();
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned());
            if let Some(case) = name
                .as_deref()
                .and_then(|name| name.strip_suffix(".input.jsonl"))
            {
                let expected = tests.join(format!("{case}.expected.jsonl"));
                cases.push((path, expected));
            }
        }
        cases.sort();
        Ok(cases)
    }
}
