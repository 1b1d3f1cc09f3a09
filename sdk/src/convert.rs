//! Conversions between the generated WIT records and the SDK's types, shared by every
//! world (they all use the one generated `types` module).

use weir_batch::{Batch, BatchParts, Header};

use crate::Output;
use crate::wit::types::{Batch as WitBatch, Header as WitHeader, NamedBatch, Outputs, Rejection};

/// The host guarantees the invariants of batches it sends (see `wit/types.wit`).
pub(crate) fn batch_from_wit(batch: WitBatch) -> Batch {
    Batch::from_parts(BatchParts {
        timestamps: batch.timestamps,
        values: batch.values,
        value_ends: batch.value_ends,
        keys: batch.keys,
        key_ends: batch.key_ends,
        keyless: batch.keyless,
        headers: batch
            .headers
            .into_iter()
            .map(|header| Header {
                event: header.event,
                name: header.name.into(),
                value: header.value.into(),
            })
            .collect(),
    })
}

pub(crate) fn batch_into_wit(batch: Batch) -> WitBatch {
    let parts = batch.into_parts();
    WitBatch {
        timestamps: parts.timestamps,
        values: parts.values,
        value_ends: parts.value_ends,
        keys: parts.keys,
        key_ends: parts.key_ends,
        keyless: parts.keyless,
        headers: parts
            .headers
            .into_iter()
            .map(|header| WitHeader {
                event: header.event,
                name: header.name.into_string(),
                value: header.value.into_vec(),
            })
            .collect(),
    }
}

/// Everything a call emitted, as the WIT `outputs` record.
pub(crate) fn outputs_into_wit(out: Output) -> Outputs {
    Outputs {
        main: batch_into_wit(out.main),
        named: out
            .named
            .into_iter()
            .map(|(output, events)| NamedBatch {
                output,
                events: batch_into_wit(events),
            })
            .collect(),
        rejected: out
            .rejected
            .into_iter()
            .map(|(event, reason)| Rejection { event, reason })
            .collect(),
    }
}

/// `ends` as the ranges they delimit in a buffer of `len` items (WIT `packed-bytes`
/// and `event-ends`), checked: the host checks what it receives, and the SDK checks
/// what it is given rather than trusting it and panicking.
///
/// # Errors
/// When an end goes backwards or past `len`, naming `what`.
pub(crate) fn ranges(
    ends: &[u32],
    len: usize,
    what: &str,
) -> impl Iterator<Item = Result<std::ops::Range<usize>, crate::Error>> {
    let mut start = 0usize;
    ends.iter().map(move |&end| {
        let end = end as usize;
        if end < start || end > len {
            return Err(crate::Error::internal(format!(
                "malformed {what}: end {end} after {start}, of {len}"
            )));
        }
        let range = start..end;
        start = end;
        Ok(range)
    })
}
