// Incremental window aggregates (world window-aggregate) for Weir's JavaScript SDK:
// the host assigns windows, keeps the accumulators and fires the windows; the plugin
// adds, merges and finishes.
//   export const aggregator = exportAggregate({ name, version, init(settings),
//     create() {...}, add(acc, event) {...}, merge(accs) {...}, finish(acc, firing) {...} });
// An accumulator is any value `encode` turns into bytes and `decode` reads back (JSON by
// default); the host stores the bytes, so the instance keeps nothing between calls.

import { describe, events, firings, guarded, parseSettings, utf8Decode, utf8Encode } from "./weir.js";

function* unpack(packed) {
  let start = 0;
  for (const end of packed.ends) {
    yield packed.bytes.subarray(start, end);
    start = end;
  }
}

function pack(items) {
  const ends = [];
  let length = 0;
  for (const item of items) ends.push((length += item.length));
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const item of items) {
    bytes.set(item, at);
    at += item.length;
  }
  return { bytes, ends };
}

/** The `aggregator` export of a window aggregate. */
export function exportAggregate(operator) {
  const encode = operator.encode || ((acc) => utf8Encode(JSON.stringify(acc)));
  const decode = operator.decode || ((bytes) => JSON.parse(utf8Decode(bytes)));
  const read = (packed) =>
    [...unpack(packed)].map((bytes) => (bytes.length ? decode(bytes) : operator.create()));
  return {
    describe: () => describe(operator),
    init: (settings) => guarded(() => operator.init && operator.init(parseSettings(settings))),
    add: (accumulators, batch, targets) =>
      guarded(() => {
        const accs = read(accumulators);
        for (const event of events(batch)) {
          const target = targets[event.index];
          accs[target] = operator.add(accs[target], event);
        }
        return pack(accs.map(encode));
      }),
    merge: (inputs, groupEnds) =>
      guarded(() => {
        const accs = read(inputs);
        let start = 0;
        return pack(
          groupEnds.map((end) => {
            const merged = operator.merge(accs.slice(start, end));
            start = end;
            return encode(merged);
          }),
        );
      }),
    finish: (accumulators, columns) =>
      guarded(() => {
        const accs = read(accumulators);
        const windows = firings(columns);
        return pack(
          accs.map((acc, i) => {
            const value = operator.finish(acc, windows[i]);
            return typeof value === "string" ? utf8Encode(value) : value;
          }),
        );
      }),
  };
}
