//! The Kafka benchmark, on a real broker (tansu, in memory, on loopback):
//! Kafka → map → Kafka, with the map as a Wasm plugin (`bench-map`) and as native
//! Rust over the same code (`plugins/bench-logic`), in the same run.
//!
//! Run: `cargo bench --workspace --bench kafka`
//! (`WEIR_BENCH_EVENTS=200000` for a quicker run; default 1 M events for throughput,
//! `WEIR_BENCH_SECONDS=5` per latency rate; `WEIR_BENCH_LINGER_MS` and
//! `WEIR_BENCH_FETCH_WAIT_MS`, 5 by default, set the pipeline's sink `linger.ms` and
//! source `fetch.wait.max.ms`).
//!
//! Printed:
//! - the broker's own rates with the same client library (librdkafka): produce N
//!   ~120-byte JSON transactions as fast as possible, then consume them;
//! - the broker's relay rate: those records copied to another topic by a plain
//!   librdkafka consumer and producer (no Weir), timed until the last copy is read
//!   back — the ceiling for a Kafka → Kafka pipeline on this broker and machine, and
//!   what "vs relay" compares the pipeline's throughput with;
//! - sustained throughput: N events preloaded into a 4-partition topic, the time
//!   from the pipeline's start until the last result is in the output topic;
//! - the broker's own latency at 10 K, 50 K and 100 K events/s, produced and consumed
//!   with no pipeline;
//! - the source alone: the preloaded topic read by a Kafka source, nothing else; and
//!   the sink alone: N events written by a Kafka sink in batches of 1,024;
//! - end-to-end latency at 10 K, 50 K and 100 K events/s: each event carries its
//!   send time (a header, ns); a consumer of the output topic records `received -
//!   sent`; p50/p99/max over the run (the first second is warm-up, not counted).
//!   Next to it, `in p50`/`in p99`: the same measure on the *input* topic in the same
//!   run (produced → consumed by a plain reader), so the broker's share of the
//!   latency under the pipeline's load shows apart from the pipeline's.
//!
//! Client settings: the pipeline's sink and the load generator batch for up to 5 ms
//! (`linger.ms = 5`, librdkafka's default); the source and the readers fetch at least
//! 64 KiB or whatever came within 5 ms (`fetch.min.bytes = 65536`,
//! `fetch.wait.max.ms = 5`). tansu's cost is per request: with `linger.ms = 1` and
//! fetches answered at the first byte (the defaults otherwise), the requests of
//! records a millisecond apart kept it seconds behind at 10 K events/s — the broker
//! alone included — where it now keeps up in milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use weir_host::config::Route;
use weir_host::connector::file::FileDeadLetterSink;
use weir_host::connector::kafka::sink::{KafkaSink, KafkaSinkSpec};
use weir_host::connector::kafka::source::{KafkaSource, KafkaSourceSpec};
use weir_host::plugin::{PluginLimits, PluginLoader, PluginSpec};
use weir_host::runtime::operator::Operator;
use weir_host::runtime::pipeline::{OperatorSpec, Pipeline, RunOptions};
use weir_host::runtime::wasm_operator::WasmOperator;
use weir_tests::broker::{Broker, BrokerKind, Client};
use weir_tests::native::{NativeMap, Shape};

const PARTITIONS: i32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Implementation {
    Wasm,
    Native,
}

fn transaction(id: u64) -> String {
    format!(
        r#"{{"id":{id},"card":"card-{:05}","amount":{}.25,"merchant":"m-{:04}","country":"FR","channel":"web"}}"#,
        id % 10_000,
        id * 7 % 1_000,
        id % 500
    )
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

fn producer(client: &Client) -> ThreadedProducer<DefaultProducerContext> {
    client
        .config()
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer")
}

/// Sends `count` transactions from `first`, stamped with their send time, at `rate`
/// events/s (as fast as possible without one).
fn send(
    producer: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    first: u64,
    count: u64,
    rate: Option<f64>,
) {
    let started = Instant::now();
    for id in first..first + count {
        // Paced in steps of a millisecond at least (a sleep per event undershoots).
        if let Some(rate) = rate {
            let due = started + Duration::from_secs_f64((id - first) as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now())
                && wait >= Duration::from_millis(1)
            {
                std::thread::sleep(wait);
            }
        }
        let value = transaction(id);
        let key = format!("card-{:05}", id % 10_000);
        let sent = now_nanos().to_le_bytes();
        let mut record = BaseRecord::to(topic)
            .key(&key)
            .payload(&value)
            .partition(i32::try_from(id % PARTITIONS as u64).expect("small"))
            .headers(OwnedHeaders::new().insert(Header {
                key: "sent",
                value: Some(&sent[..]),
            }));
        while let Err((_, back)) = producer.send(record) {
            record = back;
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

/// A consumer of every partition of `topic` from its start.
fn reader(client: &Client, topic: &str, group: &str) -> BaseConsumer {
    let consumer: BaseConsumer = client
        .config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .set("fetch.min.bytes", "65536")
        .create()
        .expect("consumer");
    let mut list = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        list.add_partition_offset(topic, partition, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&list).expect("assign");
    consumer
}

/// The broker's own relay rate: `count` records of `input` copied to `output` by plain
/// librdkafka clients (a consumer and a producer on a thread of their own, no Weir),
/// timed until the last copy is read back from `output` — what a pipeline that adds
/// nothing would reach on this broker and this machine.
fn relay(client: &Client, input: &str, output: &str, count: u64) -> f64 {
    client.create_topic(output, PARTITIONS);
    let counter = reader(client, output, &format!("count-{output}"));
    let consumer = reader(client, input, &format!("relay-{output}"));
    let producer = producer(client);
    let output_topic = output.to_owned();
    let copier = std::thread::spawn(move || {
        let mut copied = 0;
        while copied < count {
            let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let mut record = BaseRecord::to(&output_topic)
                .partition(message.partition())
                .payload(message.payload().unwrap_or_default());
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(headers) = message.headers() {
                record = record.headers(headers.detach());
            }
            while let Err((_, back)) = producer.send(record) {
                record = back;
                std::thread::sleep(Duration::from_micros(200));
            }
            copied += 1;
        }
        producer.flush(Duration::from_secs(60)).expect("flush");
    });
    let elapsed = drain(&counter, count);
    copier.join().expect("relay thread");
    count as f64 / elapsed.as_secs_f64()
}

/// Reads `count` records; the time it took.
fn drain(consumer: &BaseConsumer, count: u64) -> Duration {
    let started = Instant::now();
    let mut seen = 0;
    while seen < count {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            seen += 1;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{seen} of {count} records"
        );
    }
    started.elapsed()
}

fn map_operator(implementation: Implementation, loader: &PluginLoader) -> OperatorSpec {
    let factory: weir_host::runtime::pipeline::OperatorFactory = match implementation {
        Implementation::Wasm => {
            let plugin = loader
                .load(PluginSpec {
                    operator: "map".into(),
                    path: weir_tests::plugin("bench-map"),
                    settings_json: r#"{"shape":"json"}"#.into(),
                    limits: PluginLimits::default(),
                })
                .expect("the benchmark plugin loads");
            Box::new(move |subtask, stats| {
                WasmOperator::new(plugin.clone(), subtask.index, stats)
                    .map(|operator| Box::new(operator) as Box<dyn Operator>)
            })
        }
        Implementation::Native => Box::new(move |_, stats| {
            Ok(Box::new(NativeMap {
                shape: Shape::Json,
                stats,
                scratch: Vec::new(),
            }) as Box<dyn Operator>)
        }),
    };
    OperatorSpec {
        name: "map".into(),
        plugin: format!("{implementation:?}"),
        parallelism: 1,
        key_by: None,
        outputs: Vec::new(),
        factory,
    }
}

/// The fetch settings of the pipeline's source: at least 64 KiB, or whatever came
/// within `WEIR_BENCH_FETCH_WAIT_MS` (5 ms by default, the readers' setting).
fn fast_fetch() -> std::collections::BTreeMap<String, String> {
    [
        (
            "fetch.wait.max.ms".to_owned(),
            pipeline_setting("WEIR_BENCH_FETCH_WAIT_MS"),
        ),
        ("fetch.min.bytes".to_owned(), "65536".to_owned()),
    ]
    .into()
}

/// A client setting of the pipeline (not of the load generator or the readers), in ms:
/// the variable's value, 5 by default.
fn pipeline_setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| "5".to_owned())
}

/// Starts Kafka `input` → map → Kafka `output` in the background.
fn start_pipeline(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    loader: &PluginLoader,
    implementation: Implementation,
    input: &str,
    output: &str,
    dead_letters: &std::path::Path,
) -> Running {
    let source = runtime
        .block_on(KafkaSource::open(&KafkaSourceSpec {
            brokers: client.bootstrap.clone(),
            topics: vec![input.to_owned()],
            group_id: format!("bench-{input}"),
            properties: fast_fetch(),
            ..KafkaSourceSpec::default()
        }))
        .expect("source");
    let sink = runtime
        .block_on(KafkaSink::open(&KafkaSinkSpec {
            brokers: client.bootstrap.clone(),
            topic: output.to_owned(),
            properties: [(
                "linger.ms".to_owned(),
                pipeline_setting("WEIR_BENCH_LINGER_MS"),
            )]
            .into(),
            ..KafkaSinkSpec::default()
        }))
        .expect("sink");
    let pipeline = Pipeline {
        name: "kafka-bench".into(),
        batch_size: 1024,
        channel_capacity: 16,
        max_key_groups: weir_host::state::DEFAULT_MAX_KEY_GROUPS,
        source: Box::new(source),
        watermarks: weir_host::time::WatermarkSpec::default(),
        operators: vec![map_operator(implementation, loader)],
        sinks: vec![(Route::Main, Box::new(sink))],
        dead_letters: Box::new(
            runtime
                .block_on(FileDeadLetterSink::create(dead_letters))
                .expect("dead-letter file"),
        ),
    };
    // A thread and runtime of its own: the pipeline's future is not `Send`.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            tokio::select! {
                result = pipeline.run(RunOptions::default()) => {
                    if let Err(error) = result {
                        eprintln!("the pipeline stopped: {error}");
                    }
                }
                _ = stopped => {}
            }
        });
    });
    Running { stop, thread }
}

/// A pipeline running on a thread of its own.
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("pipeline thread");
    }
}

/// Latencies (µs) of the results read until `stop`, after `warm_up`.
fn latencies(consumer: BaseConsumer, stop: Arc<AtomicBool>, warm_up: Instant) -> Vec<u64> {
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(20)) {
            let received = now_nanos();
            let sent = message
                .headers()
                .and_then(|headers| headers.iter().find(|header| header.key == "sent"))
                .and_then(|header| header.value)
                .and_then(|value| <[u8; 8]>::try_from(value).ok())
                .map(u64::from_le_bytes)
                .expect("a send time");
            if Instant::now() > warm_up {
                latencies.push(received.saturating_sub(sent) / 1_000);
            }
        }
    }
    latencies.sort_unstable();
    latencies
}

/// [`latencies`] of `topic`, read from its start on a thread of its own.
fn collect_latencies(
    client: &Client,
    topic: &str,
    stop: &Arc<AtomicBool>,
    warm_up: Instant,
) -> std::thread::JoinHandle<Vec<u64>> {
    let consumer = reader(client, topic, &format!("latency-{topic}"));
    let stop = stop.clone();
    std::thread::spawn(move || latencies(consumer, stop, warm_up))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index] as f64 / 1_000.0
}

fn main() {
    let events: u64 = std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let seconds: f64 = std::env::var("WEIR_BENCH_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(5.0);
    let broker = Broker::start(BrokerKind::Tansu);
    let client = broker.client();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let loader = weir_tests::loader(&dir.path().join("cache"));
    let dead_letters = dir.path().join("dead.jsonl");

    println!(
        "kafka benchmark: tansu (memory) on loopback, {PARTITIONS} partitions, ~120-byte JSON"
    );
    // The broker's own rates.
    client.create_topic("load", PARTITIONS);
    let started = Instant::now();
    send(&producer(&client), "load", 0, events, None);
    let produce = events as f64 / started.elapsed().as_secs_f64();
    let consume =
        events as f64 / drain(&reader(&client, "load", "load-reader"), events).as_secs_f64();
    println!(
        "broker alone: produce {produce:>10.0} ev/s, consume {consume:>10.0} ev/s ({events} events)"
    );
    let relayed = relay(&client, "load", "relay", events);
    println!(
        "broker relay (plain clients, load -> relay, no Weir): {relayed:>10.0} ev/s ({events} events)"
    );

    // The broker's own latency at the same rates: produced, then consumed, no pipeline.
    for target in [10_000.0, 50_000.0, 100_000.0] {
        let topic = format!("direct-{}", target as u64);
        client.create_topic(&topic, PARTITIONS);
        let stop = Arc::new(AtomicBool::new(false));
        let warm_up = Instant::now() + Duration::from_secs(1);
        let collector = collect_latencies(&client, &topic, &stop, warm_up);
        let count = (target * (seconds + 1.0)) as u64;
        let started = Instant::now();
        send(&producer(&client), &topic, 0, count, Some(target));
        let achieved = count as f64 / started.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        let sorted = collector.join().expect("collector");
        println!(
            "broker alone at {achieved:>7.0} ev/s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (produced, then consumed)",
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.99),
            percentile(&sorted, 1.0),
        );
    }

    {
        // The source alone: the preloaded topic read by a Kafka source, nothing else.
        let mut source = runtime
            .block_on(KafkaSource::open(&KafkaSourceSpec {
                brokers: client.bootstrap.clone(),
                topics: vec!["load".to_owned()],
                group_id: "source-only".into(),
                properties: fast_fetch(),
                ..KafkaSourceSpec::default()
            }))
            .expect("source");
        let started = Instant::now();
        let (mut seen, mut batches) = (0, 0);
        let mut letters = Vec::new();
        while seen < events {
            let batch = runtime
                .block_on(weir_host::connector::Source::next_batch(
                    &mut source,
                    1024,
                    &mut letters,
                ))
                .expect("read")
                .expect("unbounded");
            seen += batch.len() as u64;
            batches += 1;
        }
        println!(
            "source alone: {:.0} ev/s, {batches} batches",
            events as f64 / started.elapsed().as_secs_f64()
        );
    }

    {
        // The sink alone: batches of 1,024 transactions with a key and a header.
        client.create_topic("sink-only", PARTITIONS);
        let mut sink = runtime
            .block_on(KafkaSink::open(&KafkaSinkSpec {
                brokers: client.bootstrap.clone(),
                topic: "sink-only".to_owned(),
                properties: [("linger.ms".to_owned(), "5".to_owned())].into(),
                ..KafkaSinkSpec::default()
            }))
            .expect("sink");
        let started = Instant::now();
        let mut id = 0;
        while id < events {
            let mut batch = weir_host::batch::Batch::default();
            for _ in 0..1024.min(events - id) {
                batch.push(
                    Some(format!("card-{:05}", id % 10_000).as_bytes()),
                    transaction(id).as_bytes(),
                    0,
                );
                batch.push_header("sent", &now_nanos().to_le_bytes());
                id += 1;
            }
            runtime
                .block_on(weir_host::connector::Sink::write(&mut sink, &batch))
                .expect("write");
        }
        runtime
            .block_on(weir_host::connector::Sink::finish(&mut sink))
            .expect("flush");
        println!(
            "sink alone: {:.0} ev/s",
            events as f64 / started.elapsed().as_secs_f64()
        );
    }

    // Throughput: the preloaded topic through the pipeline.
    println!(
        "{:<8} {:>12} {:>8} | {:>10} {:>10} {:>10} {:>10} | {:>8} {:>8}",
        "map",
        "events/s",
        "vs relay",
        "rate ev/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "in p50",
        "in p99"
    );
    for implementation in [Implementation::Wasm, Implementation::Native] {
        let name = format!("{implementation:?}").to_lowercase();
        let output = format!("out-{name}");
        client.create_topic(&output, PARTITIONS);
        let counter = reader(&client, &output, &format!("count-{name}"));
        let started = Instant::now();
        let running = start_pipeline(
            &runtime,
            &client,
            &loader,
            implementation,
            "load",
            &output,
            &dead_letters,
        );
        let elapsed = drain(&counter, events);
        running.stop();
        let rate = events as f64 / elapsed.as_secs_f64();
        let _ = started;
        println!("{name:<8} {rate:>12.0} {:>8.2}x |", rate / relayed);

        // Latency at fixed rates, on a topic of its own.
        for target in [10_000.0, 50_000.0, 100_000.0] {
            let input = format!("live-{name}-{}", target as u64);
            let output = format!("{input}-out");
            client.create_topic(&input, PARTITIONS);
            client.create_topic(&output, PARTITIONS);
            let running = start_pipeline(
                &runtime,
                &client,
                &loader,
                implementation,
                &input,
                &output,
                &dead_letters,
            );
            // The pipeline is live once a first event made it through.
            let probe = reader(&client, &output, &format!("probe-{input}"));
            send(&producer(&client), &input, 0, 1, None);
            drain(&probe, 1);
            let stop = Arc::new(AtomicBool::new(false));
            let warm_up = Instant::now() + Duration::from_secs(1);
            let collector = collect_latencies(&client, &output, &stop, warm_up);
            let input_collector = collect_latencies(&client, &input, &stop, warm_up);
            let count = (target * (seconds + 1.0)) as u64;
            let started = Instant::now();
            send(&producer(&client), &input, 1, count, Some(target));
            let achieved = count as f64 / started.elapsed().as_secs_f64();
            std::thread::sleep(Duration::from_millis(500));
            stop.store(true, Ordering::Relaxed);
            let sorted = collector.join().expect("collector");
            let input_sorted = input_collector.join().expect("collector");
            running.stop();
            println!(
                "{:<8} {:>12} {:>8} | {achieved:>10.0} {:>10.2} {:>10.2} {:>10.2} | {:>8.2} {:>8.2}",
                "",
                "",
                "",
                percentile(&sorted, 0.5),
                percentile(&sorted, 0.99),
                percentile(&sorted, 1.0),
                percentile(&input_sorted, 0.5),
                percentile(&input_sorted, 0.99),
            );
        }
    }
    println!("peak RSS: {:.0} MiB", weir_tests::peak_rss_mib());
}
