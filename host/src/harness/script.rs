//! The files of a `weir test` case, and running one.
//!
//! **Input** (`NAME.input.jsonl`), one JSON object per line, in order:
//!
//! | line | what happens |
//! |---|---|
//! | `{"watermark": MS}` | the watermark advances to `MS`: event-time timers and windows due fire |
//! | `{"advance_processing_time": MS}` | processing time moves `MS` forward (it starts at 0): processing-time timers and early firings due fire |
//! | `{"processing_time": MS}` | processing time is set to `MS` (never backwards) |
//! | `{"end_of_input": true}` | the input ends as a bounded source's does: a watermark of +∞ (everything fires), then the end |
//! | `{"restart": true}` | a snapshot is taken and restored into a fresh operator, as after a crash and a restart from a checkpoint taken here |
//! | `{"event": V, "time": MS, "key": "k", "headers": {"h": "v"}}` | an event: value `V` (JSON), event time `MS` (default 0), key and headers optional; `event_text` (a string) or `event_base64` instead of `event` for a value that is not JSON, `key_base64` for a key that is not text |
//! | any other object | an event with that object as its value, at time 0, no key |
//!
//! Consecutive event lines form one batch (up to [`MAX_BATCH`] events), one call of
//! the plugin, as in a pipeline; a control line ends the batch. Blank lines and lines
//! starting with `//` are skipped. An object whose only key is one of the control
//! keys is a control line; wrap such an event in `{"event": ...}`.
//!
//! **Expected** (`NAME.expected.jsonl`): one line per emitted record, in order, as
//! [`Output::to_json`](super::outputs::Output::to_json) writes it:
//! `{"output": "main"|"late"|"dead-letter"|NAME, "event": V, "key": "k", "time": MS,
//! "headers": {...}, "reason": "..."}` (`key`, `headers` only when present, `reason`
//! for dead letters). Lines are compared as JSON values (the order of fields does not
//! matter). Within one step the records come by output: main, named outputs, dead
//! letters.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};
use weir_batch::Timestamp;

use super::HarnessError;
use super::diff::render_diff;
use super::driver::{Harness, HarnessConfig, InputEvent};

/// Most events one batch of a case holds.
pub const MAX_BATCH: usize = 1024;

/// One step of a case's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Event(InputEvent),
    Watermark(Timestamp),
    AdvanceProcessingTime(i64),
    ProcessingTime(Timestamp),
    EndOfInput,
    Restart,
}

/// A step and the line it came from (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLine {
    pub line: usize,
    pub step: Step,
}

fn line_error(path: &Path, line: usize, message: impl std::fmt::Display) -> HarnessError {
    HarnessError::Config(format!("{}:{line}: {message}", path.display()))
}

/// The lines worth reading: not blank, not `//` comments; with their numbers.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(index, line)| {
        let line = line.trim();
        (!line.is_empty() && !line.starts_with("//")).then_some((index + 1, line))
    })
}

/// Parses an input file's text (`path` names it in errors).
///
/// # Errors
/// The file, the line and what is wrong with it.
pub fn parse_input(path: &Path, text: &str) -> Result<Vec<InputLine>, HarnessError> {
    content_lines(text)
        .map(|(line, content)| {
            let value: Value = serde_json::from_str(content)
                .map_err(|error| line_error(path, line, format!("not JSON: {error}")))?;
            let Value::Object(object) = value else {
                return Err(line_error(path, line, "expected a JSON object"));
            };
            let step = parse_step(object).map_err(|message| line_error(path, line, message))?;
            Ok(InputLine { line, step })
        })
        .collect()
}

fn parse_step(object: Map<String, Value>) -> Result<Step, String> {
    if object.len() == 1
        && let Some((name, value)) = object.iter().next()
    {
        let number = || {
            value
                .as_i64()
                .ok_or_else(|| format!("`{name}` takes a whole number of milliseconds"))
        };
        let flag = || match value {
            Value::Bool(true) => Ok(()),
            _ => Err(format!("`{name}` takes `true`")),
        };
        match name.as_str() {
            "watermark" => return number().map(Step::Watermark),
            "advance_processing_time" => return number().map(Step::AdvanceProcessingTime),
            "processing_time" => return number().map(Step::ProcessingTime),
            "end_of_input" => return flag().map(|()| Step::EndOfInput),
            "restart" => return flag().map(|()| Step::Restart),
            _ => {}
        }
    }
    const WRAPPER: [&str; 7] = [
        "event",
        "event_text",
        "event_base64",
        "time",
        "key",
        "key_base64",
        "headers",
    ];
    let wrapped = ["event", "event_text", "event_base64"]
        .iter()
        .any(|field| object.contains_key(*field))
        && object.keys().all(|key| WRAPPER.contains(&key.as_str()));
    if !wrapped {
        return Ok(Step::Event(InputEvent::new(
            Value::Object(object).to_string(),
            0,
        )));
    }
    let text = |field: &str| -> Result<Option<String>, String> {
        match object.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(format!("`{field}` takes a string")),
        }
    };
    let base64 = |field: &str| -> Result<Option<Vec<u8>>, String> {
        text(field)?
            .map(|text| {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|error| format!("`{field}`: not base64: {error}"))
            })
            .transpose()
    };
    let value = match (
        object.get("event"),
        text("event_text")?,
        base64("event_base64")?,
    ) {
        (Some(value), None, None) => value.to_string().into_bytes(),
        (None, Some(text), None) => text.into_bytes(),
        (None, None, Some(bytes)) => bytes,
        _ => return Err("give one of `event`, `event_text` and `event_base64`".into()),
    };
    let timestamp = match object.get("time") {
        None => 0,
        Some(time) => time
            .as_i64()
            .ok_or("`time` takes a whole number of milliseconds")?,
    };
    let key = match (text("key")?, base64("key_base64")?) {
        (Some(key), None) => Some(key.into_bytes()),
        (None, Some(key)) => Some(key),
        (None, None) => None,
        (Some(_), Some(_)) => return Err("give `key` or `key_base64`, not both".into()),
    };
    let headers = match object.get("headers") {
        None => Vec::new(),
        Some(Value::Object(headers)) => headers
            .iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name.clone(), text.clone().into_bytes())),
                _ => Err(format!("header `{name}` takes a string")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`headers` takes an object of strings".into()),
    };
    Ok(Step::Event(InputEvent {
        key,
        value,
        timestamp,
        headers,
    }))
}

/// Parses an expected file's text into canonical lines (JSON with sorted fields).
///
/// # Errors
/// The file and line of a line that is not a JSON object.
pub fn parse_expected(path: &Path, text: &str) -> Result<Vec<String>, HarnessError> {
    content_lines(text)
        .map(
            |(line, content)| match serde_json::from_str::<Value>(content) {
                Ok(value @ Value::Object(_)) => Ok(value.to_string()),
                Ok(_) => Err(line_error(path, line, "expected a JSON object")),
                Err(error) => Err(line_error(path, line, format!("not JSON: {error}"))),
            },
        )
        .collect()
}

/// How to run a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunMode {
    /// The steps as written.
    #[default]
    AsWritten,
    /// A snapshot and a restore into a fresh operator after every step: a plugin
    /// that keeps in its own memory what belongs in state gives other output.
    RestartAfterEveryStep,
}

/// Runs `steps` on `harness`; events between control lines go as batches.
///
/// # Errors
/// A step that is not possible (the watermark going back) or what would stop a
/// pipeline, with the line.
pub fn run_steps(
    harness: &mut Harness,
    path: &Path,
    steps: &[InputLine],
    mode: RunMode,
) -> Result<(), HarnessError> {
    let mut batch: Vec<InputEvent> = Vec::new();
    let mut first_line = 0;
    let at = |line: usize| move |error: HarnessError| line_error(path, line, error);
    let flush = |harness: &mut Harness, batch: &mut Vec<InputEvent>, line: usize| {
        harness.process(batch).map_err(at(line))?;
        batch.clear();
        if mode == RunMode::RestartAfterEveryStep {
            harness.restart().map_err(at(line))?;
        }
        Ok::<(), HarnessError>(())
    };
    for InputLine { line, step } in steps {
        let line = *line;
        if let Step::Event(event) = step {
            if batch.is_empty() {
                first_line = line;
            }
            batch.push(event.clone());
            if batch.len() == MAX_BATCH {
                flush(harness, &mut batch, first_line)?;
            }
            continue;
        }
        if !batch.is_empty() {
            flush(harness, &mut batch, first_line)?;
        }
        match step {
            Step::Event(_) => Ok(()),
            Step::Watermark(watermark) => harness.advance_watermark(*watermark),
            Step::AdvanceProcessingTime(by) => harness.advance_processing_time(*by),
            Step::ProcessingTime(now) => harness.set_processing_time(*now),
            Step::EndOfInput => harness.end_of_input(),
            Step::Restart => harness.restart(),
        }
        .map_err(at(line))?;
        if mode == RunMode::RestartAfterEveryStep && *step != Step::EndOfInput {
            harness.restart().map_err(at(line))?;
        }
    }
    if !batch.is_empty() {
        flush(harness, &mut batch, first_line)?;
    }
    Ok(())
}

/// One case: where its files are, what was expected and what came out.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case's name (its input file without `.input.jsonl`).
    pub name: String,
    pub expected_path: PathBuf,
    pub expected: Vec<String>,
    pub actual: Vec<String>,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.expected == self.actual
    }

    /// The diff of expected and actual lines (empty when equal).
    pub fn diff(&self) -> String {
        let expected: Vec<&str> = self.expected.iter().map(String::as_str).collect();
        let actual: Vec<&str> = self.actual.iter().map(String::as_str).collect();
        render_diff(&expected, &actual)
    }

    /// The actual lines as an expected file.
    pub fn actual_file(&self) -> String {
        self.actual.iter().map(|line| format!("{line}\n")).collect()
    }
}

/// The name of a case from its input file: `tests/basic.input.jsonl` is `basic`.
pub fn case_name(input: &Path) -> String {
    let file = input
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.strip_suffix(".input.jsonl")
        .unwrap_or(&file)
        .to_owned()
}

/// Runs the input file `input` through a fresh harness for `config` and reads
/// `expected` (missing: no lines expected).
///
/// # Errors
/// When a file cannot be read or parsed, the plugin does not load, or a step fails.
pub fn run_case(
    config: &HarnessConfig,
    input: &Path,
    expected: &Path,
    mode: RunMode,
) -> Result<CaseOutcome, HarnessError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|error| HarnessError::Io(format!("{}: {error}", path.display())))
    };
    let steps = parse_input(input, &read(input)?)?;
    let expected_lines = if expected.exists() {
        parse_expected(expected, &read(expected)?)?
    } else {
        Vec::new()
    };
    let mut harness = Harness::new(config.clone())?;
    run_steps(&mut harness, input, &steps, mode)?;
    let actual = harness
        .outputs()
        .iter()
        .map(|output| output.to_json().to_string())
        .collect();
    Ok(CaseOutcome {
        name: case_name(input),
        expected_path: expected.to_path_buf(),
        expected: expected_lines,
        actual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lines_wrapped_and_bare_events() {
        let text = r#"
// a comment
{"watermark": 10}
{"advance_processing_time": 5}
{"event": {"a": 1}, "time": 7, "key": "k", "headers": {"h": "v"}}
{"event_text": "idle"}
{"a": 2, "time": 3}
{"end_of_input": true}
"#;
        let steps = parse_input(Path::new("in.jsonl"), text).expect("parses");
        let steps: Vec<(usize, Step)> = steps.into_iter().map(|s| (s.line, s.step)).collect();
        assert_eq!(
            steps,
            [
                (3, Step::Watermark(10)),
                (4, Step::AdvanceProcessingTime(5)),
                (
                    5,
                    Step::Event(InputEvent {
                        key: Some(b"k".to_vec()),
                        value: br#"{"a":1}"#.to_vec(),
                        timestamp: 7,
                        headers: vec![("h".into(), b"v".to_vec())],
                    })
                ),
                (6, Step::Event(InputEvent::new("idle", 0))),
                (7, Step::Event(InputEvent::new(r#"{"a":2,"time":3}"#, 0))),
                (8, Step::EndOfInput),
            ]
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let error = parse_input(
            Path::new("in.jsonl"),
            "{\"watermark\": 1}\n{\"watermark\": \"x\"}",
        )
        .expect_err("a bad watermark");
        assert_eq!(
            error.to_string(),
            "in.jsonl:2: `watermark` takes a whole number of milliseconds"
        );
        let error = parse_input(Path::new("in.jsonl"), "[1]").expect_err("not an object");
        assert_eq!(error.to_string(), "in.jsonl:1: expected a JSON object");
    }
}
