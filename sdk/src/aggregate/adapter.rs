//! [`Adapter`]: runs an [`Aggregate`] over the WIT `packed-bytes` of accumulators.
//! Each accumulator is decoded once and encoded once per call, whatever the number of
//! events aimed at it, and the only allocations are per call, not per event.

use weir_batch::Batch;

use crate::Error;
use crate::aggregate::Aggregate;
use crate::codec::encode_postcard;
use crate::convert::ranges;
use crate::window::WindowInfo;
use crate::wit::types::PackedBytes;

/// An [`Aggregate`] with the buffers its calls reuse (SDK-internal).
#[doc(hidden)]
pub struct Adapter<A: Aggregate> {
    aggregate: A,
    /// The decoded accumulators of the current `add` call; empty between calls.
    accumulators: Vec<A::Acc>,
}

impl<A: Aggregate> std::fmt::Debug for Adapter<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter").finish_non_exhaustive()
    }
}

impl<A: Aggregate> Adapter<A> {
    pub(crate) fn new(aggregate: A) -> Self {
        Adapter {
            aggregate,
            accumulators: Vec::new(),
        }
    }

    /// Adds event `i` to accumulator `targets[i]`; returns all accumulators, in order.
    /// The returned buffer is `accumulators`' own, reused.
    pub(crate) fn add(
        &mut self,
        accumulators: PackedBytes,
        events: &Batch,
        targets: &[u32],
    ) -> Result<PackedBytes, Error> {
        if targets.len() != events.len() {
            return Err(Error::internal(format!(
                "{} targets for {} events",
                targets.len(),
                events.len()
            )));
        }
        self.accumulators.clear();
        let count = accumulators.ends.len();
        for range in ranges(&accumulators.ends, accumulators.bytes.len(), "accumulators") {
            let acc = self.decode(&accumulators.bytes[range?])?;
            self.accumulators.push(acc);
        }
        for (event, &target) in events.iter().zip(targets) {
            // Guest-facing index from the host: checked, not trusted.
            let acc = self.accumulators.get_mut(target as usize).ok_or_else(|| {
                Error::internal(format!("target {target} of {count} accumulators"))
            })?;
            self.aggregate.add(acc, &event)?;
        }
        let PackedBytes {
            mut bytes,
            mut ends,
        } = accumulators;
        bytes.clear();
        ends.clear();
        let mut result = Ok(());
        for acc in self.accumulators.drain(..) {
            if result.is_ok() {
                result = encode(&acc, &mut bytes, &mut ends);
            }
        }
        result.map(|()| PackedBytes { bytes, ends })
    }

    /// Merges each group of `inputs` into one accumulator.
    pub(crate) fn merge(
        &mut self,
        inputs: &PackedBytes,
        group_ends: &[u32],
    ) -> Result<PackedBytes, Error> {
        let mut accs = ranges(&inputs.ends, inputs.bytes.len(), "accumulators");
        let mut out = packed_with_capacity(group_ends.len(), inputs.bytes.len());
        for group in ranges(group_ends, inputs.ends.len(), "group ends") {
            let mut merged: Option<A::Acc> = None;
            for _ in group? {
                let range = accs
                    .next()
                    .ok_or_else(|| Error::internal("group ends past the accumulators"))??;
                let acc = self.decode(&inputs.bytes[range])?;
                match merged.as_mut() {
                    None => merged = Some(acc),
                    Some(merged) => self.aggregate.merge(merged, acc),
                }
            }
            let merged = merged.unwrap_or_else(|| self.aggregate.init());
            encode(&merged, &mut out.bytes, &mut out.ends)?;
        }
        Ok(out)
    }

    /// One result value per accumulator, for the firing at the same index.
    pub(crate) fn finish(
        &mut self,
        accumulators: &PackedBytes,
        firings: &[WindowInfo<'_>],
    ) -> Result<PackedBytes, Error> {
        if accumulators.ends.len() != firings.len() {
            return Err(Error::internal(format!(
                "{} accumulators for {} firings",
                accumulators.ends.len(),
                firings.len()
            )));
        }
        let mut out = packed_with_capacity(firings.len(), 64 * firings.len());
        let accs = ranges(&accumulators.ends, accumulators.bytes.len(), "accumulators");
        for (range, firing) in accs.zip(firings) {
            let acc = self.decode(&accumulators.bytes[range?])?;
            self.aggregate.finish(acc, firing, &mut out.bytes)?;
            push_end(&out.bytes, &mut out.ends)?;
        }
        Ok(out)
    }

    /// An accumulator from the host: empty is fresh.
    fn decode(&self, bytes: &[u8]) -> Result<A::Acc, Error> {
        if bytes.is_empty() {
            return Ok(self.aggregate.init());
        }
        postcard::from_bytes(bytes)
            .map_err(|error| Error::internal(format!("accumulator does not decode: {error}")))
    }
}

fn packed_with_capacity(count: usize, bytes: usize) -> PackedBytes {
    PackedBytes {
        bytes: Vec::with_capacity(bytes),
        ends: Vec::with_capacity(count),
    }
}

fn encode<T: serde::Serialize>(
    acc: &T,
    bytes: &mut Vec<u8>,
    ends: &mut Vec<u32>,
) -> Result<(), Error> {
    encode_postcard(acc, bytes)
        .map_err(|error| Error::internal(format!("accumulator does not encode: {error}")))?;
    push_end(bytes, ends)
}

fn push_end(bytes: &[u8], ends: &mut Vec<u32>) -> Result<(), Error> {
    let end = u32::try_from(bytes.len()).map_err(|_| Error::internal("accumulators pass 4 GiB"))?;
    ends.push(end);
    Ok(())
}
