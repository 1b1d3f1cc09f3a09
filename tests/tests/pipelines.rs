//! Whole pipelines through the real runtime and real plugins: file and generator
//! sources, chained operators, parallelism, named outputs routed to sinks, and dead
//! letters from both a source and an operator. Expected outputs are computed here,
//! independently of the plugins, from the input.

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;

use serde_json::{Value, json};
use weir_tests::{read_json_lines, run_pipeline};

const COUNTRIES: [&str; 5] = ["DE", "FR", "US", "GB", "JP"];

/// 500 transactions, and one malformed line at line 100.
fn write_transactions(dir: &Path) -> Vec<Value> {
    let mut transactions = Vec::new();
    let mut text = String::new();
    for n in 0..500u64 {
        if n == 99 {
            text.push_str("{\"id\": broken\n");
        }
        let transaction = json!({
            "id": n,
            "amount": (n * 37 % 1000) as f64 / 2.0,
            "country": COUNTRIES[(n % 5) as usize],
        });
        text.push_str(&format!("{transaction}\n"));
        transactions.push(transaction);
    }
    std::fs::write(dir.join("tx.jsonl"), text).expect("write input");
    transactions
}

fn demo_pipeline(parallelism: usize, batch_size: usize) -> String {
    format!(
        r#"
name = "enrichment"
[runtime]
batch_size = {batch_size}

[source]
type = "file"
path = "tx.jsonl"

[[operator]]
name = "big"
plugin = "{{plugins}}/json_filter.wasm"
parallelism = {parallelism}
settings = {{ field = "amount", op = "ge", value = 100.0 }}

[[operator]]
name = "enrich"
plugin = "{{plugins}}/enrich.wasm"
parallelism = {parallelism}
[operator.settings]
add = {{ checked = true }}
alert_field = "amount"
alert_above = 400.0
[operator.settings.lookup]
field = "country"
into = "region"
table = {{ DE = "eu", FR = "eu", GB = "eu", US = "na" }}
default = "other"

[[sink]]
type = "file"
path = "out/enriched.jsonl"

[[sink]]
type = "file"
path = "out/alerts.jsonl"
from = "enrich.alerts"

[dead_letter]
type = "file"
path = "out/dead.jsonl"
"#
    )
}

/// What the filter and enrichment should make of `transactions`, by hand.
fn expected(transactions: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let enriched: Vec<Value> = transactions
        .iter()
        .filter(|transaction| transaction["amount"].as_f64().expect("amount") >= 100.0)
        .map(|transaction| {
            let mut object = transaction.clone();
            let region = match transaction["country"].as_str().expect("country") {
                "DE" | "FR" | "GB" => "eu",
                "US" => "na",
                _ => "other",
            };
            object["region"] = json!(region);
            object["checked"] = json!(true);
            object
        })
        .collect();
    let alerts = enriched
        .iter()
        .filter(|transaction| transaction["amount"].as_f64().expect("amount") > 400.0)
        .cloned()
        .collect();
    (enriched, alerts)
}

fn sorted_by_id(mut events: Vec<Value>) -> Vec<Value> {
    events.sort_by_key(|event| event["id"].as_u64());
    events
}

async fn run_enrichment(parallelism: usize, batch_size: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let transactions = write_transactions(dir.path());
    let report = run_pipeline(dir.path(), &demo_pipeline(parallelism, batch_size))
        .await
        .expect("runs");
    let (expected_enriched, expected_alerts) = expected(&transactions);
    let enriched = read_json_lines(&dir.path().join("out/enriched.jsonl"));
    let alerts = read_json_lines(&dir.path().join("out/alerts.jsonl"));
    if parallelism == 1 {
        assert_eq!(
            enriched, expected_enriched,
            "order is kept with parallelism 1"
        );
        assert_eq!(alerts, expected_alerts);
    } else {
        assert_eq!(sorted_by_id(enriched), expected_enriched);
        assert_eq!(sorted_by_id(alerts), expected_alerts);
    }

    let dead = read_json_lines(&dir.path().join("out/dead.jsonl"));
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["stage"], "source");
    assert_eq!(dead[0]["position"], "line 100");
    assert_eq!(dead[0]["value"], "{\"id\": broken");

    let stats = &report.stats;
    assert_eq!(stats.events_read.load(Relaxed), 500);
    assert_eq!(stats.source_dead_lettered.load(Relaxed), 1);
    assert_eq!(
        stats.operators[0].events_out.load(Relaxed),
        expected_enriched.len() as u64
    );
    assert_eq!(
        stats.operators[1].events_in.load(Relaxed),
        expected_enriched.len() as u64
    );
    let counters = stats.operators[1]
        .plugin_counters
        .lock()
        .expect("lock")
        .clone();
    assert_eq!(
        counters.get("alerts").copied(),
        Some(expected_alerts.len() as u64),
        "plugin metrics reach the host"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_then_enrich_with_alerts_and_dead_letters() {
    run_enrichment(1, 64).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_output_does_not_depend_on_the_batch_size() {
    for batch_size in [1, 7, 500] {
        run_enrichment(1, batch_size).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_pipeline_with_parallelism_two() {
    run_enrichment(2, 64).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_rows_become_json_objects_by_their_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/phishing.csv");
    let text = std::fs::read_to_string(&csv).expect("phishing.csv ships in examples/data");
    // Independent count: rows whose last column (`label`) is 1.
    let phishing = text
        .lines()
        .skip(1)
        .filter(|row| row.ends_with(",1"))
        .count();
    let pipeline = format!(
        r#"
[source]
type = "file"
path = "{}"

[[operator]]
name = "phishing"
plugin = "{{plugins}}/json_filter.wasm"
settings = {{ field = "label", op = "eq", value = 1 }}

[[sink]]
type = "file"
path = "phishing.jsonl"
"#,
        csv.display()
    );
    run_pipeline(dir.path(), &pipeline).await.expect("runs");
    let rows = read_json_lines(&dir.path().join("phishing.jsonl"));
    assert_eq!(rows.len(), phishing);
    assert!(
        rows.iter()
            .all(|row| row["label"] == 1 && row["long_url"].is_number()),
        "numbers stay numbers"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flat_map_and_unrouted_outputs_go_to_dead_letters() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"text\":\"a stream of words\"}\n{\"other\":1}\n{\"text\":\"weir\"}\n",
    )
    .expect("write");
    let pipeline = r#"
[source]
type = "file"
path = "in.jsonl"

[[operator]]
name = "split"
plugin = "{plugins}/split.wasm"
settings = { field = "text" }

[[sink]]
type = "file"
path = "words.jsonl"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#;
    run_pipeline(dir.path(), pipeline).await.expect("runs");
    let words: Vec<Value> = read_json_lines(&dir.path().join("words.jsonl"))
        .into_iter()
        .map(|word| word["text"].clone())
        .collect();
    assert_eq!(
        words,
        [
            json!("a"),
            json!("stream"),
            json!("of"),
            json!("words"),
            json!("weir")
        ]
    );
    let dead = read_json_lines(&dir.path().join("dead.jsonl"));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["stage"], "routing");
    assert_eq!(dead[0]["output"], "unsplit");
    assert_eq!(dead[0]["value"], "{\"other\":1}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_to_an_undeclared_output_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pipeline = r#"
[source]
type = "generator"
count = 10

[[operator]]
name = "split"
plugin = "{plugins}/split.wasm"
settings = { field = "text" }

[[sink]]
type = "discard"

[[sink]]
type = "discard"
from = "split.nowhere"
"#;
    let error = run_pipeline(dir.path(), pipeline)
        .await
        .expect_err("no such output");
    let message = format!("{error:#}");
    assert!(message.contains("output `nowhere`"), "{message}");
    assert!(
        message.contains("unsplit"),
        "lists what is declared: {message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_compact_records_through_two_wasm_operators() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pipeline = r#"
[runtime]
batch_size = 1024

[source]
type = "generator"
count = 50000
shape = "compact"
seed = 7

[[operator]]
name = "filter"
plugin = "{plugins}/bench_filter.wasm"
settings = { shape = "compact" }

[[operator]]
name = "map"
plugin = "{plugins}/bench_map.wasm"
settings = { shape = "compact" }

[[sink]]
type = "file"
path = "out.bin"
"#;
    let report = run_pipeline(dir.path(), pipeline).await.expect("runs");
    let stats = &report.stats;
    let kept = stats.operators[0].events_out.load(Relaxed);
    assert_eq!(stats.events_read.load(Relaxed), 50_000);
    assert!(
        (30_000..50_000).contains(&kept),
        "about 80% are kept: {kept}"
    );
    assert_eq!(stats.operators[1].events_out.load(Relaxed), kept);
    let written = std::fs::read(dir.path().join("out.bin")).expect("output");
    assert_eq!(
        written.len() as u64,
        kept * 17,
        "16-byte records and a newline each"
    );
    for record in written.chunks(17) {
        let cents = u32::from_le_bytes(record[8..12].try_into().expect("4 bytes"));
        assert!(
            cents >= 10_000 * 92 / 100,
            "filtered then converted: {cents}"
        );
    }
}
