//! From a checked pipeline file to a runnable [`Pipeline`]: plugins loaded and
//! started (so a bad plugin is refused before any event flows), connectors opened.

use super::factory;
use super::pipeline::{OperatorSpec, Pipeline, PipelineError};
use crate::checkpoint::Layout;
use crate::config::{
    DeadLetterSection, OperatorFunction, PipelineConfig, RecordFormatName, ShapeName,
    SinkFormatName, SinkSection, SourceSection,
};
use crate::connector::discard::DiscardSink;
use crate::connector::file::{FileDeadLetterSink, FileSink, FileSource};
use crate::connector::format::{RecordFormat, SinkFormat};
use crate::connector::generator::{GeneratorSource, GeneratorSpec, ValueShape};
use crate::connector::kafka::dead_letter::KafkaDeadLetterSink;
use crate::connector::kafka::sink::KafkaSink;
use crate::connector::kafka::source::KafkaSource;
use crate::connector::parts::PartFileSink;
use crate::connector::stdio::{StderrDeadLetterSink, StdinSource, StdoutSink};
use crate::connector::{ConnectorError, DeadLetterSink, Sink, Source};
use crate::plugin::{Plugin, PluginError, PluginLoader, PluginSpec};
use crate::time::TimestampSpec;

/// Why a pipeline could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// A model granted to an operator could not be loaded.
    #[error("operator `{operator}`: model `{name}`: {error}")]
    Model {
        operator: String,
        name: String,
        error: Box<crate::model::ModelError>,
    },
}

/// Loads every plugin of `config` and opens its connectors.
///
/// # Errors
/// The first plugin that is refused, or connector that cannot open.
pub async fn assemble(
    config: &PipelineConfig,
    loader: &PluginLoader,
) -> Result<Pipeline, AssembleError> {
    Ok(assemble_with_plugins(config, loader).await?.0)
}

/// As [`assemble`], and the name of each operator's plugin (`None` for built-ins), for
/// the pipeline's [`crate::checkpoint::Fingerprint`].
///
/// # Errors
/// As [`assemble`].
pub async fn assemble_with_plugins(
    config: &PipelineConfig,
    loader: &PluginLoader,
) -> Result<(Pipeline, Vec<Option<String>>), AssembleError> {
    let (pipeline, plugins) = assemble_deployable(config, loader).await?;
    let names = plugins
        .iter()
        .map(|plugin| plugin.as_ref().map(|plugin| plugin.identity().name.clone()))
        .collect();
    Ok((pipeline, names))
}

/// As [`assemble`], and the plugin each operator runs (`None` for built-ins), for
/// hot deployment ([`crate::deploy::Deployer`]).
///
/// # Errors
/// As [`assemble`].
pub async fn assemble_deployable(
    config: &PipelineConfig,
    loader: &PluginLoader,
) -> Result<(Pipeline, Vec<Option<Plugin>>), AssembleError> {
    let checkpointed = config.checkpoint.is_some();
    let state_dirs = factory::StateDirs {
        backend: config.state.backend,
        layout: Layout::new(&config.state.dir, &config.name),
    };
    let mut operators = Vec::with_capacity(config.operators.len());
    let mut plugins = Vec::with_capacity(config.operators.len());
    // Each model file is loaded once, however many operators are granted it.
    let models = crate::model::ModelLibrary::new();
    for operator in &config.operators {
        let built = match &operator.function {
            OperatorFunction::Plugin(path) => {
                let spec = PluginSpec {
                    operator: operator.name.clone(),
                    path: path.clone(),
                    settings_json: operator.settings_json.clone(),
                    limits: operator.limits,
                };
                let loader = loader.clone();
                let (library, grants) = (models.clone(), operator.models.clone());
                let operator_name = operator.name.clone();
                let plugin = tokio::task::spawn_blocking(move || {
                    let granted =
                        library
                            .grants(&grants)
                            .map_err(|(name, error)| AssembleError::Model {
                                operator: operator_name,
                                name,
                                error: Box::new(error),
                            })?;
                    Ok::<_, AssembleError>(loader.load_with_models(spec, granted)?)
                })
                .await
                .map_err(|error| {
                    PipelineError::Task("plugin loader".into(), error.to_string())
                })??;
                for (name, hash) in plugin.models().versions() {
                    tracing::info!(operator = %operator.name, model = %name, version = %&hash[..12], "model loaded");
                }
                tracing::info!(
                    operator = %operator.name,
                    plugin = %plugin.identity(),
                    kind = %plugin.kind(),
                    cache = ?plugin.cache_outcome(),
                    "plugin loaded"
                );
                let built = factory::for_plugin(operator, &plugin, &state_dirs)?;
                plugins.push(Some(plugin));
                built
            }
            OperatorFunction::Builtins(aggregates) => {
                plugins.push(None);
                factory::for_builtins(operator, aggregates, &state_dirs)?
            }
        };
        operators.push(OperatorSpec {
            name: operator.name.clone(),
            plugin: built.identity,
            parallelism: operator.parallelism,
            key_by: operator.key_by.clone(),
            outputs: built.outputs,
            factory: built.factory,
        });
    }
    let mut sinks = Vec::with_capacity(config.sinks.len());
    for sink in &config.sinks {
        sinks.push((
            sink.route.clone(),
            open_sink(&config.name, &sink.section, checkpointed).await?,
        ));
    }
    let pipeline = Pipeline {
        name: config.name.clone(),
        batch_size: config.runtime.batch_size,
        channel_capacity: config.runtime.channel_capacity,
        max_key_groups: config.runtime.max_key_groups,
        source: open_source(&config.name, &config.source, &config.event_time.timestamps).await?,
        watermarks: config.event_time.watermarks,
        operators,
        sinks,
        dead_letters: open_dead_letters(&config.dead_letter, checkpointed).await?,
    };
    Ok((pipeline, plugins))
}

async fn open_source(
    pipeline: &str,
    section: &SourceSection,
    timestamps: &TimestampSpec,
) -> Result<Box<dyn Source>, PipelineError> {
    Ok(match section {
        SourceSection::File { path, format, .. } => {
            Box::new(FileSource::open(path, record_format(*format), timestamps).await?)
        }
        SourceSection::Stdin { format, .. } => {
            Box::new(StdinSource::new(record_format(*format), timestamps))
        }
        SourceSection::Generator {
            count,
            rate,
            seed,
            keys,
            shape,
            start_ms,
            step_ms,
            disorder_ms,
            ..
        } => {
            let defaults = GeneratorSpec::default();
            Box::new(GeneratorSource::new(GeneratorSpec {
                count: *count,
                rate: *rate,
                seed: *seed,
                keys: *keys,
                shape: match shape {
                    ShapeName::Json => ValueShape::Json,
                    ShapeName::Compact => ValueShape::Compact,
                },
                start_ms: start_ms.unwrap_or(defaults.start_ms),
                step_ms: step_ms.unwrap_or(defaults.step_ms),
                // Checked to fit when the file was loaded.
                disorder_ms: disorder_ms.map_or(defaults.disorder_ms, |ms| {
                    i64::try_from(ms).unwrap_or(i64::MAX)
                }),
            }))
        }
        SourceSection::Kafka(kafka) => {
            // `start` was checked when the file was loaded.
            let spec = kafka.spec(pipeline, timestamps).map_err(|why| {
                ConnectorError::new(format!("kafka:{}", kafka.topics.join(",")), why)
            })?;
            Box::new(KafkaSource::open(&spec).await?)
        }
    })
}

/// A file sink writes one file, or, with checkpointing, a directory of part files
/// committed with each checkpoint ([`PartFileSink`]).
async fn open_sink(
    pipeline: &str,
    section: &SinkSection,
    checkpointed: bool,
) -> Result<Box<dyn Sink>, PipelineError> {
    Ok(match section {
        SinkSection::File { path, format, .. } if checkpointed => {
            Box::new(PartFileSink::create(path, sink_format(*format)).await?)
        }
        SinkSection::File { path, format, .. } => {
            Box::new(FileSink::create(path, sink_format(*format)).await?)
        }
        SinkSection::Stdout { format, .. } => Box::new(StdoutSink::new(sink_format(*format))),
        SinkSection::Discard { .. } => Box::new(DiscardSink::new()),
        SinkSection::Kafka(kafka) => Box::new(KafkaSink::open(&kafka.spec(pipeline)).await?),
    })
}

/// With checkpointing, a dead-letter file is appended to, not truncated: dead letters
/// are at-least-once (those after the last checkpoint may repeat after a restore).
async fn open_dead_letters(
    section: &DeadLetterSection,
    checkpointed: bool,
) -> Result<Box<dyn DeadLetterSink>, PipelineError> {
    Ok(match section {
        DeadLetterSection::File { path } if checkpointed => {
            Box::new(FileDeadLetterSink::append(path).await?)
        }
        DeadLetterSection::File { path } => Box::new(FileDeadLetterSink::create(path).await?),
        DeadLetterSection::Stderr => Box::new(StderrDeadLetterSink::new()),
        DeadLetterSection::Kafka(kafka) => Box::new(KafkaDeadLetterSink::create(
            &kafka.brokers,
            &kafka.topic,
            &kafka.properties,
        )?),
    })
}

/// The format named (for a file, the configuration settles it by extension), else
/// JSON lines.
fn record_format(name: Option<RecordFormatName>) -> RecordFormat {
    match name {
        Some(RecordFormatName::Csv) => RecordFormat::Csv,
        Some(RecordFormatName::Jsonl) | None => RecordFormat::JsonLines,
    }
}

fn sink_format(name: SinkFormatName) -> SinkFormat {
    match name {
        SinkFormatName::Value => SinkFormat::Value,
        SinkFormatName::Envelope => SinkFormat::Envelope,
    }
}
