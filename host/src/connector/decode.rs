//! [`LineDecoder`]: how line-based sources (files, stdin) turn lines into events, and
//! give each event its time.
//!
//! Laws (tested below):
//! - every non-blank line becomes exactly one event or one dead letter at `line N`
//!   holding the raw line and the reason, in line order;
//! - with a timestamp field, an event's time is the field's (a JSON path, or a CSV
//!   column), and a line whose field is missing or not a time is dead-lettered; with
//!   ingestion time, every event of a read carries the time of that read.

use weir_batch::{Batch, Timestamp};

use super::csv::{header_columns, split_csv, write_csv_value};
use super::format::RecordFormat;
use crate::runtime::dead_letter::DeadLetter;
use crate::time::TimestampSpec;
use crate::time::extract::{FieldTimestamps, TimeUnit, timestamp_of_text};

/// Decodes the lines of one source into events, keeping the state a format needs
/// across lines (the CSV header).
///
/// Blank lines (empty or only whitespace) are skipped; a trailing `\r\n` or `\n` is
/// removed, as is a UTF-8 byte-order mark at the start of the first line. A line that
/// does not decode becomes a [`DeadLetter`] at position `line N` holding the raw line.
///
/// For CSV, a header with an empty or repeated column name, or without the column
/// that holds event time, is invalid: the header line is dead-lettered with the
/// reason, and so is every later row (their reason names the header's line), since
/// they cannot be given names.
#[derive(Debug)]
pub struct LineDecoder {
    format: RecordFormat,
    times: LineTimes,
    source_desc: String,
    first_line: bool,
    csv: CsvState,
}

/// Where the decoder takes event time from.
#[derive(Debug)]
enum LineTimes {
    /// The time of the read, passed to [`LineDecoder::decode`].
    Ingestion,
    /// A field: a JSON path for JSON lines, a column name for CSV.
    Field {
        name: String,
        json: FieldTimestamps,
        unit: TimeUnit,
    },
    /// A header: lines have none, so every record fails with this reason.
    Header(String),
}

/// What a CSV decoder knows about its header.
#[derive(Debug)]
enum CsvHeader {
    /// Not seen yet: the next non-blank line is the header.
    Pending,
    /// The column names, each pre-rendered as `"name":`, and the event-time column.
    Valid {
        columns: Vec<Vec<u8>>,
        time_column: Option<usize>,
    },
    /// The header line could not be used.
    Invalid { line: u64, reason: String },
}

/// Scratch space of the CSV decoder, reused from row to row.
#[derive(Debug)]
struct CsvState {
    header: CsvHeader,
    /// The unquoted contents of the fields of the current row, back to back.
    cells: Vec<u8>,
    /// Where each field of `cells` ends.
    ends: Vec<usize>,
    /// The JSON object being built for the current row.
    json: Vec<u8>,
}

impl LineDecoder {
    /// A decoder for `format` with event times from `timestamps`; `source_desc` (e.g.
    /// `file:tx.csv`) names the source in dead letters.
    pub fn new(format: RecordFormat, timestamps: &TimestampSpec, source_desc: String) -> Self {
        let times = match timestamps {
            TimestampSpec::Ingestion => LineTimes::Ingestion,
            TimestampSpec::Field { field, unit } => LineTimes::Field {
                name: field.clone(),
                json: FieldTimestamps::new(field, *unit),
                unit: *unit,
            },
            TimestampSpec::Header { name, .. } => LineTimes::Header(format!(
                "event time: header `{name}` is missing (records of {source_desc} carry no headers)"
            )),
        };
        LineDecoder {
            format,
            times,
            source_desc,
            first_line: true,
            csv: CsvState {
                header: CsvHeader::Pending,
                cells: Vec::new(),
                ends: Vec::new(),
                json: Vec::new(),
            },
        }
    }

    /// The format this decoder reads.
    pub fn format(&self) -> RecordFormat {
        self.format
    }

    /// Decodes `line` (line `line_number` of the source, counted from 1): pushes the
    /// event it holds to `batch`, pushes a dead letter, or does nothing for a blank
    /// line or a CSV header. `read_at` is the ingestion time, used when events take
    /// their time from nowhere else.
    pub fn decode(
        &mut self,
        line_number: u64,
        line: &[u8],
        read_at: Timestamp,
        batch: &mut Batch,
        dead_letters: &mut Vec<DeadLetter>,
    ) {
        let mut line = trim_line_end(line);
        if self.first_line {
            self.first_line = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let result = match self.format {
            RecordFormat::JsonLines => self.decode_json(line, read_at, batch),
            RecordFormat::Csv => self.decode_csv(line_number, line, read_at, batch),
        };
        if let Err(reason) = result {
            dead_letters.push(DeadLetter::for_record(
                &self.source_desc,
                format!("line {line_number}"),
                reason,
                line,
            ));
        }
    }

    fn decode_json(
        &mut self,
        line: &[u8],
        read_at: Timestamp,
        batch: &mut Batch,
    ) -> Result<(), String> {
        let timestamp = match &self.times {
            LineTimes::Ingestion => check_json(line).map(|()| read_at)?,
            LineTimes::Field { json, .. } => json.timestamp(line)?,
            LineTimes::Header(reason) => {
                check_json(line)?;
                return Err(reason.clone());
            }
        };
        batch.push(None, line, timestamp);
        Ok(())
    }

    fn decode_csv(
        &mut self,
        line_number: u64,
        line: &[u8],
        read_at: Timestamp,
        batch: &mut Batch,
    ) -> Result<(), String> {
        let csv = &mut self.csv;
        let (columns, time_column) = match &csv.header {
            CsvHeader::Valid {
                columns,
                time_column,
            } => (columns, *time_column),
            CsvHeader::Invalid { line, reason } => {
                return Err(format!("the CSV header (line {line}) is invalid: {reason}"));
            }
            CsvHeader::Pending => {
                let header = split_csv(line, &mut csv.cells, &mut csv.ends)
                    .and_then(|()| header_columns(&csv.cells, &csv.ends))
                    .and_then(|columns| {
                        let time_column = match &self.times {
                            LineTimes::Field { name, .. } => {
                                Some(column_index(&csv.cells, &csv.ends, name).ok_or_else(
                                    || format!("no column `{name}`, which holds event time"),
                                )?)
                            }
                            LineTimes::Ingestion | LineTimes::Header(_) => None,
                        };
                        Ok(CsvHeader::Valid {
                            columns,
                            time_column,
                        })
                    });
                return match header {
                    Ok(valid) => {
                        csv.header = valid;
                        Ok(())
                    }
                    Err(reason) => {
                        csv.header = CsvHeader::Invalid {
                            line: line_number,
                            reason: reason.clone(),
                        };
                        Err(format!("invalid CSV header: {reason}"))
                    }
                };
            }
        };
        split_csv(line, &mut csv.cells, &mut csv.ends)?;
        if csv.ends.len() != columns.len() {
            return Err(format!(
                "expected {} fields (by the header), found {}",
                columns.len(),
                csv.ends.len()
            ));
        }
        let mut timestamp = read_at;
        let json = &mut csv.json;
        json.clear();
        json.push(b'{');
        let mut start = 0;
        for (index, (&end, column)) in csv.ends.iter().zip(columns).enumerate() {
            let cell = std::str::from_utf8(&csv.cells[start..end])
                .map_err(|error| format!("field {} is not valid UTF-8: {error}", index + 1))?;
            if Some(index) == time_column
                && let LineTimes::Field { name, unit, .. } = &self.times
            {
                timestamp = timestamp_of_text(cell, *unit)
                    .map_err(|why| format!("event time: column `{name}`: {why}"))?;
            }
            if index > 0 {
                json.push(b',');
            }
            json.extend_from_slice(column);
            write_csv_value(json, cell);
            start = end;
        }
        json.push(b'}');
        if let LineTimes::Header(reason) = &self.times {
            return Err(reason.clone());
        }
        batch.push(None, json, timestamp);
        Ok(())
    }
}

/// The index of the cell whose text is `name`.
fn column_index(cells: &[u8], ends: &[usize], name: &str) -> Option<usize> {
    let mut start = 0;
    ends.iter().position(|&end| {
        let found = &cells[start..end] == name.as_bytes();
        start = end;
        found
    })
}

/// `line` without its trailing `\n` and `\r`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Checks that `line` is one valid JSON value (without building it).
pub(crate) fn check_json(line: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(line).map_err(|error| format!("not valid UTF-8: {error}"))?;
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|error| format!("invalid JSON: {error}"))
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
