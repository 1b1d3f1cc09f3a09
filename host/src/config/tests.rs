//! Pipeline files: what loads, and errors that point at the line of the key or table
//! at fault (unknown keys, wrong types, whole-file checks, event time, keys).

use std::path::Path;

use super::*;
use crate::connector::json_path::FieldPath;
use crate::plugin::PluginLimits;
use crate::runtime::key_selector::KeyBy;
use crate::time::{TimeUnit, TimestampSpec, WatermarkSpec};

const SOURCE: &str = "[source]\ntype = \"file\"\npath = \"in.jsonl\"\n";
const REST: &str =
    "\n[[operator]]\nname = \"f\"\nplugin = \"f.wasm\"\n\n[[sink]]\ntype = \"stdout\"\n";

fn load(text: &str) -> Result<PipelineConfig, ConfigError> {
    load_str(Path::new("p.toml"), text)
}

/// The error of `text`, with the line it points at (1-based).
fn error_line(text: &str) -> (usize, String) {
    let error = load(text).expect_err("the file is wrong");
    let line = error.position.map_or(0, |(line, _)| line);
    (line, error.message)
}

/// The 1-based line of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines()
        .position(|line| line.starts_with(start))
        .map_or(0, |index| index + 1)
}

#[test]
fn event_time_from_a_field_with_watermark_settings() {
    let text = format!(
        "{SOURCE}[source.event_time]\nfield = \"meta.ts\"\nunit = \"s\"\nwatermark_delay_ms = 500\nidle_timeout_ms = 10000\n{REST}"
    );
    let config = load(&text).expect("valid");
    assert_eq!(
        config.event_time,
        SourceTime {
            timestamps: TimestampSpec::Field {
                field: "meta.ts".into(),
                unit: TimeUnit::Seconds
            },
            watermarks: WatermarkSpec {
                delay_ms: 500,
                idle_timeout_ms: Some(10_000)
            },
        }
    );
    let plain = load(&format!("{SOURCE}{REST}")).expect("valid");
    assert_eq!(plain.event_time, SourceTime::default(), "ingestion time");
    assert_eq!(plain.runtime.max_key_groups, 128);
    assert_eq!(plain.operators[0].key_by, None);
}

#[test]
fn event_time_keys_are_checked_at_their_line() {
    for (table, at, wanted) in [
        (
            "field = \"ts\"\nwatermark_delay = 5\n",
            "watermark_delay",
            "unknown field `watermark_delay`",
        ),
        (
            "field = \"ts\"\nunit = \"min\"\n",
            "unit",
            "unknown variant `min`",
        ),
        (
            "field = \"ts\"\nheader = \"ts\"\n",
            "header",
            "alternatives",
        ),
        ("header = \"ts\"\n", "header", "carry no headers"),
        ("idle_timeout_ms = 0\n", "idle_timeout_ms", "at least 1"),
        ("unit = \"s\"\n", "unit", "ingestion time needs none"),
        ("field = \"a..b\"\n", "field", "not a field path"),
        ("field = 3\n", "field", "expected a string"),
    ] {
        let text = format!("{SOURCE}\n[source.event_time]\n{table}{REST}");
        let (line, message) = error_line(&text);
        assert_eq!(line, line_of(&text, at), "{table}: {message}");
        assert!(message.contains(wanted), "{table}: {message}");
    }
    let inline = format!("{SOURCE}event_time = {{ field = \"ts\", bogus = 1 }}\n{REST}");
    let (line, message) = error_line(&inline);
    assert_eq!(line, line_of(&inline, "event_time"), "{message}");
    assert!(message.contains("unknown field `bogus`"), "{message}");
}

#[test]
fn csv_fields_are_column_names_and_generators_keep_their_times() {
    let csv =
        "[source]\ntype = \"file\"\npath = \"in.csv\"\n[source.event_time]\nfield = \"a..b\"\n";
    let config = load(&format!("{csv}{REST}")).expect("a CSV column may have any name");
    assert!(matches!(
        config.source,
        SourceSection::File {
            format: Some(RecordFormatName::Csv),
            ..
        }
    ));
    assert_eq!(
        config.event_time.timestamps,
        TimestampSpec::Field {
            field: "a..b".into(),
            unit: TimeUnit::Millis
        }
    );
    let generator = "[source]\ntype = \"generator\"\ndisorder_ms = 20\n\n[source.event_time]\nwatermark_delay_ms = 20\n";
    let config = load(&format!("{generator}{REST}")).expect("valid");
    assert!(matches!(
        config.source,
        SourceSection::Generator {
            disorder_ms: Some(20),
            ..
        }
    ));
    assert_eq!(config.event_time.watermarks.delay_ms, 20);
    let text = format!("{generator}field = \"ts\"\n{REST}");
    let (line, message) = error_line(&text);
    assert_eq!(line, line_of(&text, "field"));
    assert!(
        message.contains("generated events carry their own times"),
        "{message}"
    );
}

#[test]
fn key_by_and_max_key_groups() {
    let text = format!(
        "[runtime]\nmax_key_groups = 512\n{SOURCE}\n\
         [[operator]]\nname = \"f\"\nplugin = \"f.wasm\"\n\n\
         [[operator]]\nname = \"by-user\"\nplugin = \"f.wasm\"\nkey_by = \"user.id\"\n\n\
         [[operator]]\nname = \"by-key\"\nplugin = \"g.wasm\"\nkey_by = \"$key\"\n\n\
         [[sink]]\ntype = \"stdout\"\n"
    );
    let config = load(&text).expect("valid");
    assert_eq!(config.runtime.max_key_groups, 512);
    assert_eq!(
        config.operators[1].key_by,
        Some(KeyBy::Field(FieldPath::parse("user.id")))
    );
    assert_eq!(config.operators[2].key_by, Some(KeyBy::EventKey));

    for (value, wanted) in [
        ("0", "between 1 and 32768, not 0"),
        ("40000", "between 1 and 32768, not 40000"),
        ("70000", "expected u16"),
    ] {
        let text = format!("[runtime]\nbatch_size = 10\nmax_key_groups = {value}\n{SOURCE}{REST}");
        let (line, message) = error_line(&text);
        assert_eq!(line, 3, "{value}: {message}");
        assert!(message.contains(wanted), "{value}: {message}");
    }
    let text = format!(
        "{SOURCE}{}",
        REST.replace(
            "plugin = \"f.wasm\"\n",
            "plugin = \"f.wasm\"\nparallelism = 2\nkey_by = \"user.\"\n"
        )
    );
    let (line, message) = error_line(&text);
    assert_eq!(line, line_of(&text, "key_by"), "{message}");
    assert!(message.starts_with("operator `f`: `key_by`:"), "{message}");
    assert!(message.contains("\"$key\""), "{message}");
}

// The basics: names, routes, paths, places.

const GOOD: &str = r#"
name = "demo"
[source]
type = "generator"
count = 10

[[operator]]
name = "f"
plugin = "f.wasm"
settings = { field = "amount", value = 1.5 }

[[sink]]
type = "stdout"

[[sink]]
type = "discard"
from = "f.alerts"
"#;

fn error_of(text: &str) -> ConfigError {
    load_str(Path::new("dir/p.toml"), text).expect_err("the file is wrong")
}

#[test]
fn a_good_file_loads_with_paths_resolved() {
    let config = load_str(Path::new("dir/p.toml"), GOOD).expect("valid");
    assert_eq!(config.name, "demo");
    assert!(matches!(
        &config.operators[0].function,
        OperatorFunction::Plugin(path) if path == Path::new("dir/f.wasm")
    ));
    assert_eq!(
        config.operators[0].settings_json,
        r#"{"field":"amount","value":1.5}"#
    );
    assert_eq!(
        config.sinks[1].route,
        Route::Named {
            operator: 0,
            output: "alerts".into()
        }
    );
    assert_eq!(config.operators[0].limits, PluginLimits::default());
}

#[test]
fn unknown_key_is_reported_with_its_line() {
    let error = error_of(&GOOD.replace("name = \"f\"", "name = \"f\"\nparalelism = 2"));
    assert_eq!(
        error.position.map(|(line, _)| line),
        Some(9),
        "the line of the key"
    );
    assert!(
        error.message.contains("unknown field `paralelism`"),
        "{error}"
    );
    assert!(
        error.message.contains("parallelism"),
        "says what was expected: {error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("dir/p.toml:9:1: unknown field"),
        "{error}"
    );
}

#[test]
fn wrong_type_and_bad_syntax_have_places() {
    let error = error_of(&GOOD.replace("count = 10", "count = \"ten\""));
    assert!(error.message.contains("expected u64"), "{error}");
    assert!(error.position.is_some());
    let error =
        error_of(&GOOD.replace("[[sink]]\ntype = \"stdout\"", "[[sink]\ntype = \"stdout\""));
    assert_eq!(error.position.map(|(line, _)| line), Some(12), "{error}");
}

#[test]
fn whole_file_checks_point_at_the_table() {
    let error = error_of(&GOOD.replace("from = \"f.alerts\"", "from = \"g.alerts\""));
    assert!(error.message.contains("no operator named `g`"), "{error}");
    assert_eq!(
        error.position.map(|(line, _)| line),
        Some(15),
        "the second [[sink]]"
    );
    let error = error_of(&GOOD.replace("name = \"f\"", "name = \"f\"\nparallelism = 0"));
    assert!(error.message.contains("at least 1"), "{error}");
    let error = error_of(&GOOD.replace("[[sink]]\ntype = \"stdout\"\n", ""));
    assert!(error.message.contains("main output"), "{error}");
}

#[test]
fn state_and_checkpoint_sections_have_defaults_and_checkpointing_is_off_without_one() {
    let plain = load(&format!("{SOURCE}{REST}")).expect("valid");
    assert_eq!(plain.checkpoint, None);
    assert_eq!(plain.state.dir, Path::new(".weir"));
    assert_eq!(plain.state.backend, crate::state::BackendKind::Memory);
    let text = format!(
        "{SOURCE}{REST}\n[state]\nbackend = \"memory\"\ndir = \"data\"\n\n[checkpoint]\ninterval_ms = 200\n"
    );
    let config = load(&text).expect("valid");
    assert_eq!(config.state.dir, Path::new("data"));
    let checkpoint = config.checkpoint.expect("on");
    assert_eq!(checkpoint.interval, std::time::Duration::from_millis(200));
    assert_eq!(checkpoint.retain, 3);
}

#[test]
fn checkpoint_settings_are_checked_at_their_line() {
    for (body, at, wanted) in [
        ("interval_ms = 5\n", "interval_ms", "at least 10, not 5"),
        (
            "interval_ms = 100\nretain = 0\n",
            "retain",
            "`retain` must be at least 1",
        ),
        (
            "retain = 2\n",
            "[checkpoint]",
            "missing field `interval_ms`",
        ),
        (
            "interval_ms = 100\nevery = 3\n",
            "every",
            "unknown field `every`",
        ),
    ] {
        let text = format!("{SOURCE}{REST}\n[checkpoint]\n{body}");
        let (line, message) = error_line(&text);
        assert_eq!(line, line_of(&text, at), "{body}: {message}");
        assert!(message.contains(wanted), "{body}: {message}");
    }
    let text = format!("{SOURCE}{REST}\n[state]\nbackend = \"floppy\"\n");
    let (line, message) = error_line(&text);
    assert_eq!(line, line_of(&text, "backend"), "{message}");
    assert!(message.contains("unknown variant `floppy`"), "{message}");
}

#[test]
fn every_example_pipeline_loads() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut pending = vec![examples];
    let mut loaded = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("examples dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|extension| extension == "toml")
            {
                load_file(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                loaded += 1;
            }
        }
    }
    assert!(loaded >= 10, "the example pipelines were found ({loaded})");
}

#[test]
fn scale_out_needs_checkpoints() {
    let text = "[source]\ntype = \"kafka\"\nbrokers = \"b:9092\"\ntopics = [\"a\"]\nscale_out = true\n\n[[sink]]\ntype = \"stdout\"\n";
    let error = load(text).expect_err("refused").to_string();
    assert!(
        error.starts_with("p.toml:5:") && error.contains("add a `[checkpoint]` section"),
        "{error}"
    );
    let config = load(&format!("{text}\n[checkpoint]\ninterval_ms = 500\n")).expect("loads");
    assert!(crate::scale_out::is_scale_out(&config));
}

#[test]
fn a_repartition_topic_needs_scale_out_and_a_key() {
    let source = "[source]\ntype = \"kafka\"\nbrokers = \"b:9092\"\ntopics = [\"a\"]\n";
    let rest = "\n[[sink]]\ntype = \"stdout\"\n\n[checkpoint]\ninterval_ms = 500\n";
    let keyed = "\n[[operator]]\nname = \"k\"\nplugin = \"k.wasm\"\nkey_by = \"card\"\n";
    let without_scale_out = format!("{source}repartition_topic = \"by-card\"\n{keyed}{rest}");
    let error = load(&without_scale_out).expect_err("refused").to_string();
    assert!(
        error.starts_with("p.toml:5:") && error.contains("is for `scale_out = true`"),
        "{error}"
    );
    let without_key = format!("{source}scale_out = true\nrepartition_topic = \"by-card\"\n{rest}");
    let error = load(&without_key).expect_err("refused").to_string();
    assert!(error.contains("no operator has a `key_by`"), "{error}");
    let config = load(&format!(
        "{source}scale_out = true\nrepartition_topic = \"by-card\"\n{keyed}{rest}"
    ))
    .expect("loads");
    assert!(crate::scale_out::is_scale_out(&config));
}
