//! Standard streams as connectors: [`StdinSource`] reads JSON lines or CSV like a
//! file source, [`StdoutSink`] writes one line per event, and
//! [`StderrDeadLetterSink`] writes one JSON line per dead letter.

use async_trait::async_trait;
use tokio::io::{AsyncWrite, AsyncWriteExt as _, BufReader, Stdin};
use weir_batch::Batch;

use super::file::{LineReader, READ_BUFFER};
use super::format::{RecordFormat, SinkFormat, encode};
use super::{ConnectorError, DeadLetterSink, Sink, Source};
use crate::runtime::dead_letter::DeadLetter;
use crate::time::TimestampSpec;

/// Events read from standard input, decoded as in [`super::file::FileSource`]; ends
/// when stdin does.
#[derive(Debug)]
pub struct StdinSource {
    lines: LineReader<BufReader<Stdin>>,
}

impl StdinSource {
    /// A source reading `format` lines from stdin, events timed by `timestamps`.
    pub fn new(format: RecordFormat, timestamps: &TimestampSpec) -> Self {
        let reader = BufReader::with_capacity(READ_BUFFER, tokio::io::stdin());
        StdinSource {
            lines: LineReader::new(reader, format, timestamps, "stdin".to_owned()),
        }
    }
}

#[async_trait]
impl Source for StdinSource {
    fn describe(&self) -> String {
        self.lines.describe().to_owned()
    }

    async fn next_batch(
        &mut self,
        max_events: usize,
        dead_letters: &mut Vec<DeadLetter>,
    ) -> Result<Option<Batch>, ConnectorError> {
        self.lines.next_batch(max_events, dead_letters).await
    }
}

/// Events written to standard output, one line each.
#[derive(Debug)]
pub struct StdoutSink {
    out: tokio::io::Stdout,
    format: SinkFormat,
    encoded: Vec<u8>,
}

impl StdoutSink {
    /// A sink writing `format` lines to stdout.
    pub fn new(format: SinkFormat) -> Self {
        StdoutSink {
            out: tokio::io::stdout(),
            format,
            encoded: Vec::new(),
        }
    }
}

#[async_trait]
impl Sink for StdoutSink {
    fn describe(&self) -> String {
        "stdout".to_owned()
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        self.encoded.clear();
        encode(self.format, batch, &mut self.encoded);
        write_bytes(&mut self.out, &self.encoded, "stdout").await
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        flush(&mut self.out, "stdout").await
    }
}

/// Dead letters written to standard error, one JSON line each.
#[derive(Debug)]
pub struct StderrDeadLetterSink {
    out: tokio::io::Stderr,
}

impl StderrDeadLetterSink {
    /// A dead-letter sink writing to stderr.
    pub fn new() -> Self {
        StderrDeadLetterSink {
            out: tokio::io::stderr(),
        }
    }
}

impl Default for StderrDeadLetterSink {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DeadLetterSink for StderrDeadLetterSink {
    fn describe(&self) -> String {
        "stderr".to_owned()
    }

    async fn write(&mut self, letter: &DeadLetter) -> Result<(), ConnectorError> {
        let mut line = letter.to_json_line();
        line.push('\n');
        write_bytes(&mut self.out, line.as_bytes(), "stderr").await
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        flush(&mut self.out, "stderr").await
    }
}

async fn write_bytes(
    out: &mut (impl AsyncWrite + Unpin + Send),
    bytes: &[u8],
    describe: &str,
) -> Result<(), ConnectorError> {
    out.write_all(bytes)
        .await
        .map_err(|error| ConnectorError::new(describe, format!("write: {error}")))
}

async fn flush(
    out: &mut (impl AsyncWrite + Unpin + Send),
    describe: &str,
) -> Result<(), ConnectorError> {
    out.flush()
        .await
        .map_err(|error| ConnectorError::new(describe, format!("flush: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stdio_connectors_describe_themselves_and_write() {
        assert_eq!(
            StdinSource::new(RecordFormat::Csv, &TimestampSpec::Ingestion).describe(),
            "stdin"
        );
        let mut sink = StdoutSink::new(SinkFormat::Value);
        assert_eq!(sink.describe(), "stdout");
        // An empty batch writes nothing, so the test output stays clean.
        sink.write(&Batch::default()).await.expect("writes");
        sink.finish().await.expect("flushes");
        let mut dead = StderrDeadLetterSink::default();
        assert_eq!(dead.describe(), "stderr");
        dead.finish().await.expect("flushes");
    }

    #[tokio::test]
    async fn the_shared_line_reader_reads_any_buffered_input() {
        // StdinSource is a LineReader over stdin; the same reader over bytes in memory
        // shows the decoding a pipe would see.
        let input: &[u8] = b"a,b\n1,2\n1\n";
        let mut lines = LineReader::new(
            input,
            RecordFormat::Csv,
            &TimestampSpec::Ingestion,
            "stdin".to_owned(),
        );
        let mut dead = Vec::new();
        let batch = lines
            .next_batch(10, &mut dead)
            .await
            .expect("reads")
            .expect("a batch");
        assert_eq!(batch.len(), 1);
        assert_eq!(batch.event(0).value, br#"{"a":1,"b":2}"#);
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].value, b"1");
        assert!(
            lines
                .next_batch(10, &mut dead)
                .await
                .expect("reads")
                .is_none()
        );
    }
}
