// `xlang-keyed` in JavaScript: the same keyed aggregate as plugins/xlang-keyed (Rust;
// its docs are the specification): running count and sum of `amount` per key, and per
// `bucket_ms` bucket a timer that emits the bucket's totals to `totals` and clears them.
// The state `totals` is 16 bytes, count and sum as little-endian i64, as in every port.
// Build: scripts/build-lang-plugins (jco componentize, QuickJS, world keyed-process).

import { configError, utf8Decode } from "./build/weir-sdk/weir.js";
import { exportKeyed } from "./build/weir-sdk/keyed.js";

const REASON = "expected a JSON object with an integer `amount` from 0 to 2^53-1";
const MAX_SUM = (1n << 63n) - 1n;

function amountOf(event) {
  let record;
  try {
    record = event.json();
  } catch {
    return null;
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) return null;
  const amount = record.amount;
  if (!Number.isSafeInteger(amount) || amount < 0) return null;
  if (/"amount"\s*:\s*-?\d+[.eE]/.test(event.text())) return null;
  return amount;
}

let bucketMs = 10000;
let totals = null;

function read(ctx) {
  const stored = totals.get(ctx);
  if (stored === null || stored === undefined) return [0n, 0n];
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  return [view.getBigInt64(0, true), view.getBigInt64(8, true)];
}

function write(ctx, count, sum) {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigInt64(0, count, true);
  view.setBigInt64(8, sum, true);
  totals.set(ctx, bytes);
}

/** A JSON number for an i64 (BigInt), written exactly. */
const json = (fields) =>
  "{" + fields.map(([name, value]) => `${JSON.stringify(name)}:${typeof value === "bigint" ? value.toString() : JSON.stringify(value)}`).join(",") + "}";

export const keyedProcessor = exportKeyed({
  name: "xlang-keyed",
  version: "0.1.0",
  outputs: ["totals"],
  init(settings, states) {
    for (const name of Object.keys(settings))
      if (name !== "bucket_ms") throw configError(`unknown settings: ${name}`);
    bucketMs = settings.bucket_ms === undefined ? 10000 : settings.bucket_ms;
    if (!Number.isSafeInteger(bucketMs) || bucketMs < 1)
      throw configError("settings: `bucket_ms` must be at least 1");
    totals = states.value("totals");
  },
  process(event, ctx, out) {
    const amount = amountOf(event);
    if (amount === null) {
      out.reject(event, REASON);
      return;
    }
    let [count, sum] = read(ctx);
    count += 1n;
    sum += BigInt(amount);
    if (sum > MAX_SUM) sum = MAX_SUM;
    write(ctx, count, sum);
    const at = event.timestamp;
    const offset = ((at % bucketMs) + bucketMs) % bucketMs;
    ctx.registerEventTimer(at - offset + bucketMs);
    out.emitValue(event, json([["key", event.keyText()], ["count", count], ["sum", sum]]));
  },
  onTimer(timer, ctx, out) {
    const [count, sum] = read(ctx);
    totals.clear(ctx);
    const fields = [["key", utf8Decode(timer.key)], ["bucket_end", timer.at], ["count", count], ["sum", sum]];
    out.emitNew(timer.key, json(fields), timer.at, "totals");
  },
});

