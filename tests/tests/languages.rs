//! One operator, four languages: the map `xlang-map` and the keyed aggregate
//! `xlang-keyed`, written in Rust (`plugins/`), Python (`plugins-py/`), JavaScript
//! (`plugins-js/`) and C (`plugins-c/`), run through the same pipeline on the same
//! input, must write the same bytes to every output: main, named, dead letters (with
//! the reasons). The input mixes good events with every kind of bad one the operators
//! define (not JSON, not an object, missing or mistyped fields, negative, fractional
//! and too large amounts) and strings that need escaping.
//!
//! The non-Rust components come from `scripts/build-lang-plugins`; the compile cache
//! test loads the 18 MB Python component twice and checks the second load is a hit.

use std::path::{Path, PathBuf};

use weir_host::plugin::{CacheOutcome, PluginLimits, PluginSpec};
use weir_tests::{lang_plugin, plugin, run_pipeline};

/// The ports of an operator: (language, component).
fn ports(rust_crate: &str, base: &str) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("rust", plugin(rust_crate)),
        ("python", lang_plugin(&format!("{base}_py"))),
        ("js", lang_plugin(&format!("{base}_js"))),
        ("c", lang_plugin(&format!("{base}_c"))),
    ]
}

/// Payments over three users and 25 s of event time, with bad events mixed in.
fn payments() -> String {
    let users = ["ana", "bo \"the\" \\ builder", "zoë\t€"];
    let mut lines = Vec::new();
    for index in 0..60_i64 {
        let user = users[index as usize % users.len()];
        let amount = (index * 7919) % 1000;
        let ts = 1_000 + index * 400;
        let user_json = serde_json::to_string(user).expect("a string");
        lines.push(format!(
            r#"{{"user":{user_json},"amount":{amount},"ts":{ts},"note":[1,{{"x":"}}"}}]}}"#
        ));
        let bad = match index {
            5 => r#"not json"#.to_owned(),
            11 => format!(r#"{{"user":"ana","amount":-5,"ts":{ts}}}"#),
            17 => format!(r#"{{"user":"ana","amount":12.5,"ts":{ts}}}"#),
            23 => format!(r#"{{"user":"ana","amount":"12","ts":{ts}}}"#),
            29 => format!(r#"{{"user":"ana","amount":9007199254740992,"ts":{ts}}}"#),
            35 => format!(r#"{{"user":7,"amount":1,"ts":{ts}}}"#),
            41 => format!(r#"{{"user":"ana","ts":{ts}}}"#),
            47 => format!(r#"{{"user":"bo","amount":9007199254740991,"ts":{ts}}}"#),
            _ => continue,
        };
        lines.push(bad);
    }
    lines.join("\n") + "\n"
}

/// Runs `pipeline` (with `{plugin}` standing for `component`) on [`payments`] and
/// returns the text of each output file, by name.
async fn run(dir: &Path, pipeline: &str, component: &Path) -> Vec<(String, String)> {
    std::fs::write(dir.join("payments.jsonl"), payments()).expect("input");
    let pipeline = pipeline.replace("{plugin}", &component.display().to_string());
    run_pipeline(dir, &pipeline)
        .await
        .unwrap_or_else(|error| panic!("{}: {error:#}", component.display()));
    ["out.jsonl", "totals.jsonl", "dead.jsonl"]
        .into_iter()
        .filter(|name| dir.join(name).exists())
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).expect("output");
            let text = if name == "dead.jsonl" {
                without_build_details(&text)
            } else {
                text
            };
            (name.to_owned(), text)
        })
        .collect()
}

/// Dead letters name the plugin's build (`name@version+hash`) and the input's path:
/// keeps `name@version` and the file name, which every port shares.
fn without_build_details(dead_letters: &str) -> String {
    let mut text = String::new();
    for line in dead_letters.lines() {
        let mut letter: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        for (field, cut) in [("plugin", '+'), ("source", '/')] {
            if let Some(serde_json::Value::String(value)) = letter.get_mut(field) {
                *value = match cut {
                    '+' => value.split('+').next().unwrap_or_default().to_owned(),
                    _ => value.rsplit('/').next().unwrap_or_default().to_owned(),
                };
            }
        }
        text.push_str(&letter.to_string());
        text.push('\n');
    }
    text
}

/// Runs every port and checks that each wrote what Rust wrote; returns Rust's outputs.
async fn same_outputs_in_every_language(
    rust_crate: &str,
    base: &str,
    pipeline: &str,
) -> Vec<(String, String)> {
    let mut reference: Option<Vec<(String, String)>> = None;
    for (language, component) in ports(rust_crate, base) {
        let dir = tempfile::tempdir().expect("temp dir");
        let outputs = run(dir.path(), pipeline, &component).await;
        match &reference {
            None => reference = Some(outputs),
            Some(expected) => {
                for ((name, want), (_, got)) in expected.iter().zip(&outputs) {
                    assert_eq!(
                        got, want,
                        "{base} in {language}: {name} differs from Rust's"
                    );
                }
                let names = |outputs: &[(String, String)]| -> Vec<String> {
                    outputs.iter().map(|(name, _)| name.clone()).collect()
                };
                assert_eq!(names(&outputs), names(expected), "{base} in {language}");
            }
        }
    }
    reference.expect("Rust ran")
}

fn lines_of<'a>(outputs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    outputs
        .iter()
        .find(|(file, _)| file == name)
        .map(|(_, text)| text.lines().collect())
        .unwrap_or_default()
}

const MAP_PIPELINE: &str = r#"
[runtime]
batch_size = 16

[source]
type = "file"
path = "payments.jsonl"
[source.event_time]
field = "ts"

[[operator]]
name = "fee"
plugin = "{plugin}"
settings = { fee_percent = 7 }

[[sink]]
type = "file"
path = "out.jsonl"
format = "envelope"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_map_gives_the_same_outputs_in_rust_python_js_and_c() {
    let outputs = same_outputs_in_every_language("xlang-map", "xlang_map", MAP_PIPELINE).await;
    let out = lines_of(&outputs, "out.jsonl");
    let dead = lines_of(&outputs, "dead.jsonl");
    // 60 good payments, one more at the largest amount; 7 bad lines (the source
    // dead-letters the line that is not JSON itself).
    assert_eq!((out.len(), dead.len()), (61, 7), "{out:?}\n{dead:?}");
    assert!(
        out[1].contains(
            r#"\"user\":\"bo \\\"the\\\" \\\\ builder\",\"amount\":919,\"fee\":64,\"total\":983"#
        ),
        "{}",
        out[1]
    );
    assert!(
        dead.iter()
            .filter(|line| line.contains("an integer `amount` from 0 to 2^53-1"))
            .count()
            == 6,
        "{dead:?}"
    );
}

const KEYED_PIPELINE: &str = r#"
[runtime]
batch_size = 16

[source]
type = "file"
path = "payments.jsonl"
[source.event_time]
field = "ts"
watermark_delay_ms = 500

[[operator]]
name = "totals"
plugin = "{plugin}"
key_by = "user"
settings = { bucket_ms = 5000 }

[[sink]]
type = "file"
path = "out.jsonl"
format = "envelope"

[[sink]]
type = "file"
path = "totals.jsonl"
format = "envelope"
from = "totals.totals"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_keyed_aggregate_gives_the_same_outputs_in_rust_python_js_and_c() {
    let outputs =
        same_outputs_in_every_language("xlang-keyed", "xlang_keyed", KEYED_PIPELINE).await;
    let running = lines_of(&outputs, "out.jsonl");
    let totals = lines_of(&outputs, "totals.jsonl");
    // Good events: the 60 payments, `bo`'s largest amount and user 7 (keyed as "7").
    assert_eq!(running.len(), 62, "{running:?}");
    // 1 s to 24.6 s in buckets of 5 s: three users in each of 5 buckets, plus the
    // buckets of `bo` and "7"; each event counted once in its bucket.
    assert_eq!(totals.len(), 17, "{totals:?}");
    let counted: u64 = totals
        .iter()
        .map(|line| {
            let envelope: serde_json::Value = serde_json::from_str(line).expect("JSON");
            let value: serde_json::Value =
                serde_json::from_str(envelope["value"].as_str().expect("value")).expect("JSON");
            value["count"].as_u64().expect("count")
        })
        .sum();
    assert_eq!(counted, 62, "{totals:?}");
}

#[test]
fn the_compile_cache_makes_the_second_load_of_a_python_plugin_a_hit() {
    let cache = tempfile::tempdir().expect("temp dir");
    let load = || {
        let loader = weir_tests::loader(cache.path());
        let plugin = loader
            .load(PluginSpec {
                operator: "fee".into(),
                path: lang_plugin("xlang_map_py"),
                settings_json: "{}".into(),
                limits: PluginLimits::default(),
            })
            .expect("the Python component loads");
        plugin.cache_outcome()
    };
    assert_eq!(load(), CacheOutcome::Compiled);
    assert_eq!(load(), CacheOutcome::Hit);
}
