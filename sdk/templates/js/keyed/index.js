// {{name}}: a Weir keyed process function in JavaScript (world keyed-process).
// Counts the events of each key in host state (`count`, a little-endian u64) and emits
// {"key": ..., "count": n} for every event. Build: `weir build`; test: `weir test`.

import { exportKeyed } from "./build/weir-sdk/keyed.js";

let count = null;

export const keyedProcessor = exportKeyed({
  name: "{{name}}",
  version: "0.1.0",
  init(settings, states) {
    count = states.value("count");
  },
  process(event, ctx, out) {
    const stored = count.get(ctx);
    const seen = stored ? new DataView(stored.buffer, stored.byteOffset, 8).getBigUint64(0, true) : 0n;
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, seen + 1n, true);
    count.set(ctx, bytes);
    out.emitJson(event, { key: event.keyText(), count: Number(seen + 1n) });
  },
});
