//! File connectors: [`FileSource`] reads JSON lines or CSV, [`FileSink`] writes one
//! line per event, [`FileDeadLetterSink`] writes one JSON line per dead letter.
//!
//! The line-reading loop, `LineReader`, works on any buffered async reader and is
//! shared with the stdin source.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::fs::File;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _, BufReader, BufWriter,
};
use weir_batch::{Batch, Timestamp};

use super::decode::LineDecoder;
use super::format::{RecordFormat, SinkFormat, encode};
use super::{ConnectorError, DeadLetterSink, Sink, Source, SourcePosition};
use crate::runtime::dead_letter::DeadLetter;
use crate::time::TimestampSpec;

/// The read buffer of line sources: large, so that a read is a few system calls per
/// batch rather than one per line.
pub(crate) const READ_BUFFER: usize = 256 * 1024;

/// Events preallocated per batch at most, whatever `max_events` asks.
const PREALLOCATED_EVENTS: usize = 4096;

/// Reads lines from `reader` and decodes them into batches: the loop behind every
/// line-based source.
pub(crate) struct LineReader<R> {
    reader: R,
    decoder: LineDecoder,
    describe: String,
    line: Vec<u8>,
    line_number: u64,
    /// Bytes read so far: the offset of the next unread line.
    offset: u64,
    done: bool,
}

impl<R> std::fmt::Debug for LineReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineReader")
            .field("describe", &self.describe)
            .field("format", &self.decoder.format())
            .field("line_number", &self.line_number)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: AsyncBufRead + Unpin + Send> LineReader<R> {
    /// A reader of `format` lines from `reader`, with event times from `timestamps`,
    /// described as `describe`.
    pub(crate) fn new(
        reader: R,
        format: RecordFormat,
        timestamps: &TimestampSpec,
        describe: String,
    ) -> Self {
        LineReader {
            reader,
            decoder: LineDecoder::new(format, timestamps, describe.clone()),
            describe,
            line: Vec::new(),
            line_number: 0,
            offset: 0,
            done: false,
        }
    }

    /// The source's description.
    pub(crate) fn describe(&self) -> &str {
        &self.describe
    }

    /// Reads at most `max_events` lines (at least one) and decodes them; events that
    /// take their time from nowhere else carry the time of this read. `Ok(None)` once the input is exhausted and nothing is
    /// left to hand over.
    pub(crate) async fn next_batch(
        &mut self,
        max_events: usize,
        dead_letters: &mut Vec<DeadLetter>,
    ) -> Result<Option<Batch>, ConnectorError> {
        if self.done {
            return Ok(None);
        }
        let max_lines = max_events.max(1);
        let timestamp = now_ms();
        let letters_before = dead_letters.len();
        let mut batch = Batch::with_capacity(max_lines.min(PREALLOCATED_EVENTS), 0);
        for _ in 0..max_lines {
            self.line.clear();
            let read = self
                .reader
                .read_until(b'\n', &mut self.line)
                .await
                .map_err(|error| {
                    ConnectorError::new(
                        &self.describe,
                        format!("reading after line {}: {error}", self.line_number),
                    )
                })?;
            if read == 0 {
                self.done = true;
                break;
            }
            self.offset += read as u64;
            self.line_number += 1;
            self.decoder.decode(
                self.line_number,
                &self.line,
                timestamp,
                &mut batch,
                dead_letters,
            );
        }
        if self.done && batch.is_empty() && dead_letters.len() == letters_before {
            return Ok(None);
        }
        Ok(Some(batch))
    }
}

impl<R: AsyncBufRead + tokio::io::AsyncSeek + Unpin + Send> LineReader<R> {
    /// Where the next unread line starts.
    pub(crate) fn position(&self) -> SourcePosition {
        SourcePosition::File {
            offset: self.offset,
            line: self.line_number,
        }
    }

    /// Continues at `offset`, the start of line `line + 1`. A CSV reader first reads
    /// the header row again (line 1), which its records need.
    pub(crate) async fn seek(&mut self, offset: u64, line: u64) -> Result<(), ConnectorError> {
        let failed = |error: std::io::Error| {
            ConnectorError::new(
                &self.describe,
                format!("cannot seek to byte {offset}: {error}"),
            )
        };
        if self.decoder.format() == RecordFormat::Csv && line > 0 {
            self.line.clear();
            self.reader
                .read_until(b'\n', &mut self.line)
                .await
                .map_err(failed)?;
            let mut scratch = Batch::default();
            let mut letters = Vec::new();
            // Its dead letter, if the header is bad, was sent before the checkpoint.
            self.decoder
                .decode(1, &self.line, now_ms(), &mut scratch, &mut letters);
        }
        self.reader
            .seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(failed)?;
        self.offset = offset;
        self.line_number = line;
        self.done = false;
        Ok(())
    }
}

/// Now, in milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            Timestamp::try_from(since.as_millis()).unwrap_or(Timestamp::MAX)
        })
}

/// A file of JSON lines or CSV, read once from start to end. Events have no key; their
/// time comes from a field or is the ingestion time ([`TimestampSpec`]).
#[derive(Debug)]
pub struct FileSource {
    lines: LineReader<BufReader<File>>,
}

impl FileSource {
    /// Opens the file at `path`, whose events take their time from `timestamps`.
    ///
    /// # Errors
    /// When the file cannot be opened; the error names the file.
    pub async fn open(
        path: &Path,
        format: RecordFormat,
        timestamps: &TimestampSpec,
    ) -> Result<Self, ConnectorError> {
        let describe = format!("file:{}", path.display());
        let file = File::open(path)
            .await
            .map_err(|error| ConnectorError::new(&describe, format!("cannot open: {error}")))?;
        let reader = BufReader::with_capacity(READ_BUFFER, file);
        Ok(FileSource {
            lines: LineReader::new(reader, format, timestamps, describe),
        })
    }
}

#[async_trait]
impl Source for FileSource {
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

    fn position(&self) -> Option<SourcePosition> {
        Some(self.lines.position())
    }

    async fn seek(&mut self, position: &SourcePosition) -> Result<(), ConnectorError> {
        match *position {
            SourcePosition::File { offset, line } => self.lines.seek(offset, line).await,
            SourcePosition::Generator { .. } | SourcePosition::Kafka { .. } => {
                Err(ConnectorError::new(
                    self.describe(),
                    format!("cannot continue from {position:?}: not a file position"),
                ))
            }
        }
    }
}

/// A file written with one line per event; created (or truncated) when the sink is.
#[derive(Debug)]
pub struct FileSink {
    file: File,
    format: SinkFormat,
    describe: String,
    encoded: Vec<u8>,
}

impl FileSink {
    /// Creates the file at `path`, with its missing parent directories, truncating a
    /// file that is there.
    ///
    /// # Errors
    /// When the directory or the file cannot be created; the error names the file.
    pub async fn create(path: &Path, format: SinkFormat) -> Result<Self, ConnectorError> {
        let describe = format!("file:{}", path.display());
        let file = create_file(path, &describe).await?;
        Ok(FileSink {
            file,
            format,
            describe,
            encoded: Vec::new(),
        })
    }
}

#[async_trait]
impl Sink for FileSink {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        self.encoded.clear();
        encode(self.format, batch, &mut self.encoded);
        self.file
            .write_all(&self.encoded)
            .await
            .map_err(|error| ConnectorError::new(&self.describe, format!("write: {error}")))
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        finish_file(&mut self.file, &self.describe).await
    }
}

/// A file of dead letters, one JSON line each ([`DeadLetter::to_json_line`]).
#[derive(Debug)]
pub struct FileDeadLetterSink {
    file: BufWriter<File>,
    describe: String,
}

impl FileDeadLetterSink {
    /// Creates the file at `path`, with its missing parent directories, truncating a
    /// file that is there.
    ///
    /// # Errors
    /// When the directory or the file cannot be created; the error names the file.
    pub async fn create(path: &Path) -> Result<Self, ConnectorError> {
        let describe = format!("file:{}", path.display());
        let file = create_file(path, &describe).await?;
        Ok(FileDeadLetterSink {
            file: BufWriter::new(file),
            describe,
        })
    }

    /// Opens the file at `path` for appending (creating it and its missing parent
    /// directories): a restored run adds to the dead letters of the runs before it.
    ///
    /// # Errors
    /// When the directory or the file cannot be created; the error names the file.
    pub async fn append(path: &Path) -> Result<Self, ConnectorError> {
        let describe = format!("file:{}", path.display());
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|error| {
                ConnectorError::new(&describe, format!("cannot create its directory: {error}"))
            })?;
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await
            .map_err(|error| ConnectorError::new(&describe, format!("cannot open: {error}")))?;
        Ok(FileDeadLetterSink {
            file: BufWriter::new(file),
            describe,
        })
    }
}

#[async_trait]
impl DeadLetterSink for FileDeadLetterSink {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn write(&mut self, letter: &DeadLetter) -> Result<(), ConnectorError> {
        let mut line = letter.to_json_line();
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .await
            .map_err(|error| ConnectorError::new(&self.describe, format!("write: {error}")))
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        self.file
            .flush()
            .await
            .map_err(|error| ConnectorError::new(&self.describe, format!("flush: {error}")))?;
        finish_file(self.file.get_mut(), &self.describe).await
    }
}

/// Creates (truncating) the file at `path` and its missing parent directories.
async fn create_file(path: &Path, describe: &str) -> Result<File, ConnectorError> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        tokio::fs::create_dir_all(parent).await.map_err(|error| {
            ConnectorError::new(
                describe,
                format!("cannot create directory {}: {error}", parent.display()),
            )
        })?;
    }
    File::create(path)
        .await
        .map_err(|error| ConnectorError::new(describe, format!("cannot create: {error}")))
}

/// Flushes `file` and waits until its data is on disk.
async fn finish_file(file: &mut File, describe: &str) -> Result<(), ConnectorError> {
    file.flush()
        .await
        .map_err(|error| ConnectorError::new(describe, format!("flush: {error}")))?;
    file.sync_all()
        .await
        .map_err(|error| ConnectorError::new(describe, format!("sync: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(
        source: &mut impl Source,
        max_events: usize,
    ) -> (Vec<Batch>, Vec<DeadLetter>) {
        let mut batches = Vec::new();
        let mut dead = Vec::new();
        while let Some(batch) = source
            .next_batch(max_events, &mut dead)
            .await
            .expect("readable")
        {
            batches.push(batch);
        }
        (batches, dead)
    }

    #[tokio::test]
    async fn file_source_reads_batches_and_dead_letters() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in.jsonl");
        std::fs::write(
            &path,
            "{\"n\":1}\n{\"n\":2}\nbroken\n\n{\"n\":3}\r\n{\"n\":4}",
        )
        .expect("write input");
        let mut source =
            FileSource::open(&path, RecordFormat::JsonLines, &TimestampSpec::Ingestion)
                .await
                .expect("opens");
        assert_eq!(source.describe(), format!("file:{}", path.display()));

        let before = now_ms();
        let (batches, dead) = read_all(&mut source, 2).await;
        let sizes: Vec<usize> = batches.iter().map(Batch::len).collect();
        assert_eq!(sizes, [2, 0, 2], "at most 2 lines per batch");
        let values: Vec<&[u8]> = batches
            .iter()
            .flat_map(Batch::iter)
            .map(|e| e.value)
            .collect();
        assert_eq!(
            values,
            [&b"{\"n\":1}"[..], b"{\"n\":2}", b"{\"n\":3}", b"{\"n\":4}"]
        );
        assert!(
            batches
                .iter()
                .flat_map(Batch::iter)
                .all(|e| e.timestamp >= before && e.timestamp <= now_ms())
        );
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].value, b"broken");
        assert_eq!(
            dead[0].origin,
            crate::runtime::dead_letter::Origin::Source {
                source: format!("file:{}", path.display()),
                position: "line 3".into(),
            }
        );
        let mut more = Vec::new();
        assert!(source.next_batch(2, &mut more).await.expect("ok").is_none());
    }

    #[tokio::test]
    async fn file_source_reads_csv_across_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in.csv");
        std::fs::write(&path, "a,b\n1,x\n2,y\n3,z\n").expect("write input");
        let mut source = FileSource::open(&path, RecordFormat::Csv, &TimestampSpec::Ingestion)
            .await
            .expect("opens");
        let (batches, dead) = read_all(&mut source, 2).await;
        assert!(dead.is_empty());
        let values: Vec<&[u8]> = batches
            .iter()
            .flat_map(Batch::iter)
            .map(|e| e.value)
            .collect();
        assert_eq!(
            values,
            [
                &br#"{"a":1,"b":"x"}"#[..],
                br#"{"a":2,"b":"y"}"#,
                br#"{"a":3,"b":"z"}"#
            ]
        );
    }

    #[tokio::test]
    async fn file_source_error_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing.jsonl");
        let error = FileSource::open(&path, RecordFormat::JsonLines, &TimestampSpec::Ingestion)
            .await
            .expect_err("missing file");
        assert!(error.to_string().contains("missing.jsonl"), "{error}");
    }

    #[tokio::test]
    async fn file_sink_creates_dirs_truncates_and_writes_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/out.jsonl");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("dirs");
        std::fs::write(&path, "old content that must go\n".repeat(10)).expect("old file");
        let mut sink = FileSink::create(&path, SinkFormat::Value)
            .await
            .expect("creates");
        let mut batch = Batch::default();
        batch.push(None, b"{\"x\":1}", 1);
        batch.push(Some(b"k"), b"{\"x\":2}", 2);
        sink.write(&batch).await.expect("writes");
        sink.write(&batch.slice(0..1)).await.expect("writes");
        sink.finish().await.expect("finishes");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read back"),
            "{\"x\":1}\n{\"x\":2}\n{\"x\":1}\n"
        );

        let path = dir.path().join("new/dir/envelope.jsonl");
        let mut sink = FileSink::create(&path, SinkFormat::Envelope)
            .await
            .expect("creates");
        sink.write(&batch).await.expect("writes");
        sink.finish().await.expect("finishes");
        let text = std::fs::read_to_string(&path).expect("read back");
        assert_eq!(text.lines().count(), 2);
        assert!(
            text.starts_with(r#"{"key":null,"value":"{\"x\":1}","timestamp":1"#),
            "{text}"
        );
    }

    #[tokio::test]
    async fn dead_letter_file_holds_one_json_line_each() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dead/letters.jsonl");
        let mut sink = FileDeadLetterSink::create(&path).await.expect("creates");
        let letters = [
            DeadLetter::for_record("file:x", "line 1".into(), "bad", b"oops"),
            DeadLetter::for_record("file:x", "line 9".into(), "worse", &[0xff]),
        ];
        for letter in &letters {
            sink.write(letter).await.expect("writes");
        }
        sink.finish().await.expect("finishes");
        let text = std::fs::read_to_string(&path).expect("read back");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [letters[0].to_json_line(), letters[1].to_json_line()]
        );
        let second: serde_json::Value = serde_json::from_str(lines[1]).expect("JSON");
        assert_eq!(second["position"], "line 9");
        assert_eq!(second["value_base64"], "/w==");
    }
}
