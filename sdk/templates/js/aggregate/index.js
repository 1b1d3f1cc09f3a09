// {{name}}: a Weir window aggregate in JavaScript (world window-aggregate).
// Count and sum of a numeric field (setting `field`, default "amount") per key and
// window; each firing emits {"key", "start", "end", "count", "sum"}. The accumulator is
// [count, sum], stored by the host as JSON. Build: `weir build`; test: `weir test`.

import { invalidInput, utf8Decode } from "./build/weir-sdk/weir.js";
import { exportAggregate } from "./build/weir-sdk/aggregate.js";

let field = "amount";

export const aggregator = exportAggregate({
  name: "{{name}}",
  version: "0.1.0",
  init(settings) {
    field = settings.field === undefined ? "amount" : String(settings.field);
  },
  create: () => [0, 0],
  add(acc, event) {
    const record = event.json();
    const value = record !== null && typeof record === "object" ? record[field] : undefined;
    if (typeof value !== "number") throw invalidInput(`expected a JSON object with a number \`${field}\``);
    return [acc[0] + 1, acc[1] + value];
  },
  merge: (accs) => accs.reduce((a, b) => [a[0] + b[0], a[1] + b[1]]),
  finish(acc, firing) {
    const key = firing.key ? utf8Decode(firing.key) : "";
    return JSON.stringify({ key, start: firing.start, end: firing.end, count: acc[0], sum: acc[1] });
  },
});
