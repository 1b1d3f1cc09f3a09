//! `[source.event_time]`: where a source's events take their time from, and how its
//! watermarks follow (see [`crate::time`]). Checked here into a [`SourceTime`].

use serde::Deserialize;

use super::{RecordFormatName, SourceSection};
use crate::connector::json_path::FieldPath;
use crate::time::{TimeUnit, TimestampSpec, WatermarkSpec};

/// `[source.event_time]`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTimeSection {
    /// The field holding the time: a dotted JSON path (`meta.ts`), or for CSV the
    /// column's name.
    pub field: Option<String>,
    /// The header holding the time (sources whose records carry headers).
    pub header: Option<String>,
    /// The unit of numeric times: `ms` (default) or `s`.
    pub unit: Option<TimeUnitName>,
    /// Bounded out-of-orderness: how far behind the newest event an event may be and
    /// still not be late (default 0).
    pub watermark_delay_ms: Option<u64>,
    /// A split that reads nothing for this long (processing time) is idle, and stops
    /// holding the watermark back.
    pub idle_timeout_ms: Option<u64>,
}

/// The unit of numeric times, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnitName {
    /// `ms`: milliseconds since the Unix epoch.
    Ms,
    /// `s`: seconds since the Unix epoch.
    S,
}

/// Event time of a source, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceTime {
    /// Where each event's time comes from.
    pub timestamps: TimestampSpec,
    /// How the source's watermarks follow.
    pub watermarks: WatermarkSpec,
}

/// A problem in `[source.event_time]`: the key it is about (for its line) and what.
pub(super) struct EventTimeProblem {
    pub key: Option<&'static str>,
    pub message: String,
}

fn problem(key: &'static str, message: impl Into<String>) -> EventTimeProblem {
    EventTimeProblem {
        key: Some(key),
        message: message.into(),
    }
}

/// Checks the `[source.event_time]` of `source` (absent: ingestion time, no delay).
pub(super) fn check_event_time(source: &SourceSection) -> Result<SourceTime, EventTimeProblem> {
    let Some(section) = source.event_time() else {
        return Ok(SourceTime::default());
    };
    let (kind, csv) = match source {
        SourceSection::File { format, .. } => ("file", *format == Some(RecordFormatName::Csv)),
        SourceSection::Stdin { format, .. } => ("stdin", *format == Some(RecordFormatName::Csv)),
        SourceSection::Generator { .. } => ("generator", false),
        SourceSection::Kafka(_) => ("kafka", false),
    };
    let unit = match section.unit {
        Some(TimeUnitName::S) => TimeUnit::Seconds,
        Some(TimeUnitName::Ms) | None => TimeUnit::Millis,
    };
    let timestamps = match (&section.field, &section.header) {
        (Some(_), Some(_)) => {
            return Err(problem(
                "header",
                "`field` and `header` are alternatives: give one, or neither for ingestion time",
            ));
        }
        (Some(_), None) if kind == "generator" => {
            return Err(problem(
                "field",
                "generated events carry their own times (`start_ms + i * step_ms`, \
                 minus up to `disorder_ms`); `field` is for file and stdin sources",
            ));
        }
        (Some(field), None) => {
            let checked = if csv {
                (!field.is_empty())
                    .then_some(())
                    .ok_or_else(|| "`field` must name a CSV column".to_owned())
            } else {
                FieldPath::check(field)
            };
            checked.map_err(|message| problem("field", format!("`field`: {message}")))?;
            TimestampSpec::Field {
                field: field.clone(),
                unit,
            }
        }
        (None, Some(name)) if kind == "kafka" => TimestampSpec::Header {
            name: name.clone(),
            unit,
        },
        (None, Some(_)) => {
            return Err(problem(
                "header",
                format!(
                    "records of a `{kind}` source carry no headers; \
                     use `field`, or neither for ingestion time"
                ),
            ));
        }
        (None, None) => {
            if section.unit.is_some() {
                return Err(problem(
                    "unit",
                    "`unit` is the unit of a `field` or `header` time; ingestion time needs none",
                ));
            }
            TimestampSpec::Ingestion
        }
    };
    let delay_ms = i64::try_from(section.watermark_delay_ms.unwrap_or(0))
        .map_err(|_| problem("watermark_delay_ms", "`watermark_delay_ms` is too large"))?;
    if section.idle_timeout_ms == Some(0) {
        return Err(problem(
            "idle_timeout_ms",
            "`idle_timeout_ms` must be at least 1 (leave it out to never declare idleness)",
        ));
    }
    Ok(SourceTime {
        timestamps,
        watermarks: WatermarkSpec {
            delay_ms,
            idle_timeout_ms: section.idle_timeout_ms,
        },
    })
}
