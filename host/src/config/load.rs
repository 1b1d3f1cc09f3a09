//! Reading a pipeline file: TOML syntax and types first (serde, with the place of the
//! error), then the checks that need the whole file (names, routes, limits, event
//! time, keys), each pointing at the key or table at fault, then paths resolved
//! against the file's folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize as _;

use super::durability::{CheckpointConfig, StateSection};
use super::error::ConfigError;
use super::event_time::{EventTimeSection, SourceTime, check_event_time};
use super::spans::{Document, Step};
use super::{
    DeadLetterSection, OperatorSection, PipelineFile, RecordFormatName, RuntimeSection,
    SinkSection, SourceSection,
};
use crate::plugin::DEFAULT_DEADLINE;
use crate::plugin::PluginLimits;
use crate::plugin::limits::DEFAULT_MEMORY_LIMIT;
use crate::runtime::key_selector::KeyBy;
use crate::window::spec::WindowSpec;

/// The most key groups a pipeline may have: the limit of key-group ranges in state.
pub const MAX_KEY_GROUPS_LIMIT: u16 = 32_768;

/// A checked pipeline, paths resolved.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub name: String,
    /// The pipeline file.
    pub file: PathBuf,
    pub runtime: RuntimeSection,
    pub source: SourceSection,
    /// Where the source's events take their time from, and its watermarks.
    pub event_time: SourceTime,
    pub operators: Vec<OperatorConfig>,
    pub sinks: Vec<SinkConfig>,
    pub dead_letter: DeadLetterSection,
    /// `[state]`, with its defaults.
    pub state: StateSection,
    /// `[checkpoint]`, checked; `None`: checkpointing is off.
    pub checkpoint: Option<CheckpointConfig>,
}

/// One operator, checked.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    pub name: String,
    /// The plugin, or the built-in aggregates, that the operator runs.
    pub function: OperatorFunction,
    /// The operator's windows, if it is a window operator.
    pub window: Option<WindowSpec>,
    pub parallelism: usize,
    /// What the operator's input is keyed by, if it is keyed.
    pub key_by: Option<KeyBy>,
    pub limits: PluginLimits,
    /// The `settings` table as a JSON object, for the plugin's `init`.
    pub settings_json: String,
    /// The models granted to the plugin: name → file (resolved).
    pub models: std::collections::BTreeMap<String, PathBuf>,
}

/// What an operator runs.
#[derive(Debug, Clone)]
pub enum OperatorFunction {
    /// A Wasm component (its world says what kind of operator it is).
    Plugin(PathBuf),
    /// Host-native window aggregates, as written (`count`, `sum(amount)`...).
    Builtins(Vec<String>),
}

/// Which output a sink reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The main output of the last operator (or the source, with no operators).
    Main,
    /// Named output `output` of operator number `operator`.
    Named { operator: usize, output: String },
}

/// One sink, checked.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub section: SinkSection,
    pub route: Route,
}

/// Reads and checks the pipeline file at `path`.
///
/// # Errors
/// A [`ConfigError`] naming the file, the line and what was expected.
pub fn load_file(path: &Path) -> Result<PipelineConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigError::at(
            path,
            "",
            None,
            format!("cannot read the pipeline file: {error}"),
        )
    })?;
    load_str(path, &text)
}

/// Checks the pipeline in `text`, as if read from `path` (relative paths in it are
/// resolved against `path`'s folder).
///
/// # Errors
/// A [`ConfigError`] naming the file, the line and what was expected.
pub fn load_str(path: &Path, text: &str) -> Result<PipelineConfig, ConfigError> {
    let toml_error = |error: toml::de::Error| {
        ConfigError::at(
            path,
            text,
            error.span().map(|span| span.start),
            error.message().trim(),
        )
    };
    let root = toml::de::DeTable::parse(text).map_err(toml_error)?;
    let document = Document::new(root.get_ref());
    // `[source.event_time]` first, on its own: inside the `[source]` table (tagged by
    // `type`), serde would lose the place of its keys.
    if let Some(event_time) = document.get(&[Step::Key("source"), Step::Key("event_time")]) {
        EventTimeSection::deserialize(toml::de::ValueDeserializer::from(event_time.clone()))
            .map_err(toml_error)?;
    }
    let file = PipelineFile::deserialize(toml::de::Deserializer::from(root)).map_err(toml_error)?;
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let error_at = |header: &str, index: usize, message: String| {
        ConfigError::at(path, text, find_table(text, header, index), message)
    };
    // At the value of `path` in the file, else at the `index`-th table `header`.
    let error_near = |steps: &[Step<'_>], header: &str, index: usize, message: String| {
        let offset = document
            .offset(steps)
            .or_else(|| find_table(text, header, index));
        ConfigError::at(path, text, offset, message)
    };

    if file.runtime.batch_size == 0 || file.runtime.channel_capacity == 0 {
        return Err(error_at(
            "[runtime]",
            0,
            "`batch_size` and `channel_capacity` must be at least 1".into(),
        ));
    }
    if !(1..=MAX_KEY_GROUPS_LIMIT).contains(&file.runtime.max_key_groups) {
        return Err(error_near(
            &[Step::Key("runtime"), Step::Key("max_key_groups")],
            "[runtime]",
            0,
            format!(
                "`max_key_groups` must be between 1 and {MAX_KEY_GROUPS_LIMIT}, not {}",
                file.runtime.max_key_groups
            ),
        ));
    }
    let source = resolve_source(file.source, &base);
    if let SourceSection::Generator {
        disorder_ms: Some(disorder),
        ..
    } = &source
        && i64::try_from(*disorder).is_err()
    {
        return Err(error_near(
            &[Step::Key("source"), Step::Key("disorder_ms")],
            "[source]",
            0,
            "`disorder_ms` is too large".into(),
        ));
    }
    if let SourceSection::Kafka(kafka) = &source {
        kafka
            .spec("", &crate::time::TimestampSpec::Ingestion)
            .map_err(|message| {
                error_near(
                    &[Step::Key("source"), Step::Key("start")],
                    "[source]",
                    0,
                    message,
                )
            })?;
    }
    let event_time = check_event_time(&source).map_err(|problem| {
        let mut steps = vec![Step::Key("source"), Step::Key("event_time")];
        steps.extend(problem.key.map(Step::Key));
        let offset = document
            .offset(&steps)
            .or_else(|| document.offset(&steps[..2]))
            .or_else(|| find_table(text, "[source]", 0));
        ConfigError::at(
            path,
            text,
            offset,
            format!("[source.event_time] {}", problem.message),
        )
    })?;
    let operators = file
        .operators
        .iter()
        .enumerate()
        .map(|(index, section)| {
            check_operator(section, &base).map_err(|(key, message)| {
                let steps = [Step::Key("operator"), Step::At(index), Step::Key(key)];
                error_near(&steps, "[[operator]]", index, message)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (index, operator) in operators.iter().enumerate() {
        if operators[..index]
            .iter()
            .any(|earlier| earlier.name == operator.name)
        {
            return Err(error_at(
                "[[operator]]",
                index,
                format!(
                    "operator name `{}` is used twice; names must be unique",
                    operator.name
                ),
            ));
        }
    }
    let sinks = file
        .sinks
        .iter()
        .enumerate()
        .map(|(index, section)| {
            let route = route_of(section.from(), &operators)
                .map_err(|message| error_at("[[sink]]", index, message))?;
            Ok(SinkConfig {
                section: resolve_sink(section.clone(), &base),
                route,
            })
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    if !sinks.iter().any(|sink| sink.route == Route::Main) {
        return Err(ConfigError::at(
            path,
            text,
            None,
            "expected a `[[sink]]` for the main output (one without `from`): events must go somewhere",
        ));
    }
    let name = file.name.clone().unwrap_or_else(|| {
        path.file_stem().map_or_else(
            || "pipeline".to_owned(),
            |stem| stem.to_string_lossy().into_owned(),
        )
    });
    let checkpoint = file
        .checkpoint
        .as_ref()
        .map(|section| {
            section.check().map_err(|(key, message)| {
                error_near(
                    &[Step::Key("checkpoint"), Step::Key(key)],
                    "[checkpoint]",
                    0,
                    message,
                )
            })
        })
        .transpose()?;
    if checkpoint.is_none()
        && let Some(index) = sinks.iter().position(|sink| {
            matches!(&sink.section, SinkSection::Kafka(kafka)
                if kafka.delivery == super::kafka::DeliveryName::ExactlyOnce)
        })
    {
        return Err(error_near(
            &[Step::Key("sink"), Step::At(index), Step::Key("delivery")],
            "[[sink]]",
            index,
            "`delivery = \"exactly-once\"` commits a transaction with each checkpoint: add a `[checkpoint]` section".into(),
        ));
    }
    if checkpoint.is_none() && matches!(&source, SourceSection::Kafka(kafka) if kafka.scale_out) {
        return Err(error_near(
            &[Step::Key("source"), Step::Key("scale_out")],
            "[source]",
            0,
            "`scale_out = true` moves a partition's state to its next host through checkpoints: add a `[checkpoint]` section".into(),
        ));
    }
    if let SourceSection::Kafka(kafka) = &source
        && kafka.repartition_topic.is_some()
    {
        let problem = if !kafka.scale_out {
            Some("`repartition_topic` is for `scale_out = true`")
        } else if !operators.iter().any(|operator| operator.key_by.is_some()) {
            Some("`repartition_topic`: no operator has a `key_by` to repartition by")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(error_near(
                &[Step::Key("source"), Step::Key("repartition_topic")],
                "[source]",
                0,
                problem.into(),
            ));
        }
    }
    let mut runtime = file.runtime.clone();
    runtime.cache_dir = runtime.cache_dir.map(|dir| base.join(dir));
    Ok(PipelineConfig {
        name,
        file: path.to_path_buf(),
        runtime,
        source,
        event_time,
        operators,
        sinks,
        dead_letter: match file.dead_letter {
            Some(DeadLetterSection::File { path }) => DeadLetterSection::File {
                path: base.join(path),
            },
            Some(DeadLetterSection::Kafka(kafka)) => DeadLetterSection::Kafka(kafka),
            Some(DeadLetterSection::Stderr) | None => DeadLetterSection::Stderr,
        },
        state: file.state.clone().unwrap_or_default(),
        checkpoint,
    })
}

/// Checks one `[[operator]]`; a problem comes with the key it is about.
fn check_operator(
    section: &OperatorSection,
    base: &Path,
) -> Result<OperatorConfig, (&'static str, String)> {
    let name = &section.name;
    if name.is_empty() || name.contains(['.', '/']) {
        return Err((
            "name",
            format!("operator name {name:?} must be non-empty and contain no `.` or `/`"),
        ));
    }
    if section.parallelism == 0 {
        return Err((
            "parallelism",
            format!("operator `{name}`: `parallelism` must be at least 1"),
        ));
    }
    let key_by = section
        .key_by
        .as_deref()
        .map(KeyBy::parse)
        .transpose()
        .map_err(|why| ("key_by", format!("operator `{name}`: `key_by`: {why}")))?;
    let memory_bytes = match section.memory_limit_mib {
        Some(0) => {
            return Err((
                "memory_limit_mib",
                format!("operator `{name}`: `memory_limit_mib` must be at least 1"),
            ));
        }
        Some(mib) => mib.checked_mul(1 << 20).ok_or_else(|| {
            (
                "memory_limit_mib",
                format!("operator `{name}`: `memory_limit_mib` is too large"),
            )
        })?,
        None => DEFAULT_MEMORY_LIMIT,
    };
    let deadline = match section.deadline_ms {
        Some(0) => {
            return Err((
                "deadline_ms",
                format!("operator `{name}`: `deadline_ms` must be at least 1"),
            ));
        }
        Some(ms) => Duration::from_millis(ms),
        None => DEFAULT_DEADLINE,
    };
    let settings_json = serde_json::to_string(&section.settings).map_err(|error| {
        (
            "settings",
            format!("operator `{name}`: settings cannot be given to the plugin: {error}"),
        )
    })?;
    let window = section
        .window
        .as_ref()
        .map(|window| window.to_spec())
        .transpose()
        .map_err(|(key, why)| (key, format!("operator `{name}`: window: {why}")))?;
    let function = match (&section.plugin, &section.aggregate) {
        (Some(plugin), None) => OperatorFunction::Plugin(base.join(plugin)),
        (None, Some(aggregates)) if window.is_some() => {
            crate::window::builtin::Builtins::parse(&aggregates.join(", ")).map_err(|why| {
                (
                    "aggregate",
                    format!("operator `{name}`: `aggregate`: {why}"),
                )
            })?;
            OperatorFunction::Builtins(aggregates.clone())
        }
        (None, Some(_)) => {
            return Err((
                "aggregate",
                format!("operator `{name}`: built-in aggregates need an `[operator.window]`"),
            ));
        }
        (Some(_), Some(_)) => {
            return Err((
                "aggregate",
                format!("operator `{name}`: give either `plugin` or `aggregate`, not both"),
            ));
        }
        (None, None) => {
            return Err((
                "name",
                format!(
                    "operator `{name}`: expected `plugin = \"path/to/plugin.wasm\"` (or, for a window operator, `aggregate = [...]`)"
                ),
            ));
        }
    };
    let models = super::models::check_grants(name, &section.models, section.plugin.is_some(), base)
        .map_err(|why| ("models", why))?;
    if window.is_some() && section.key_by.is_none() && section.parallelism > 1 {
        return Err((
            "parallelism",
            format!(
                "operator `{name}`: windows over a stream that is not keyed run with parallelism 1 (or set `key_by`)"
            ),
        ));
    }
    Ok(OperatorConfig {
        name: name.clone(),
        function,
        window,
        parallelism: section.parallelism,
        key_by,
        limits: PluginLimits {
            memory_bytes,
            deadline,
        },
        settings_json,
        models,
    })
}

fn route_of(from: Option<&str>, operators: &[OperatorConfig]) -> Result<Route, String> {
    let Some(from) = from else {
        return Ok(Route::Main);
    };
    let Some((operator, output)) = from.split_once('.') else {
        return Err(format!("`from = {from:?}`: expected `operator.output`"));
    };
    let index = operators
        .iter()
        .position(|candidate| candidate.name == operator)
        .ok_or_else(|| {
            let names: Vec<&str> = operators
                .iter()
                .map(|operator| operator.name.as_str())
                .collect();
            format!("`from = {from:?}`: no operator named `{operator}` (operators: {names:?})")
        })?;
    Ok(Route::Named {
        operator: index,
        output: output.to_owned(),
    })
}

/// The source with its path resolved, and a file's format settled: the one named,
/// else CSV for a `.csv` file, else JSON lines.
fn resolve_source(source: SourceSection, base: &Path) -> SourceSection {
    match source {
        SourceSection::File {
            path,
            format,
            event_time,
        } => {
            let csv = path
                .extension()
                .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
            SourceSection::File {
                path: base.join(path),
                format: Some(format.unwrap_or(if csv {
                    RecordFormatName::Csv
                } else {
                    RecordFormatName::Jsonl
                })),
                event_time,
            }
        }
        other => other,
    }
}

fn resolve_sink(sink: SinkSection, base: &Path) -> SinkSection {
    match sink {
        SinkSection::File { path, format, from } => SinkSection::File {
            path: base.join(path),
            format,
            from,
        },
        other => other,
    }
}

/// Byte offset of the `index`-th line that starts with `header` (e.g. `[[sink]]`).
fn find_table(text: &str, header: &str, index: usize) -> Option<usize> {
    let mut offset = 0;
    let mut seen = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with(header) {
            if seen == index {
                return Some(offset + (line.len() - line.trim_start().len()));
            }
            seen += 1;
        }
        offset += line.len();
    }
    None
}
