// {{name}}: a Weir map operator in JavaScript (world stateless-processor).
// Adds "tag": <settings.tag> to each JSON object; anything else goes to the dead-letter
// output with the reason. Build: `weir build` (or `sh build.sh`); test: `weir test`.

import { configError, exportMap, invalidInput } from "./build/weir-sdk/weir.js";

let tag = "seen";

export const processor = exportMap({
  name: "{{name}}",
  version: "0.1.0",
  init(settings) {
    tag = settings.tag === undefined ? "seen" : settings.tag;
    if (typeof tag !== "string") throw configError("`tag` must be a string");
  },
  map(event) {
    const record = event.json(); // a SyntaxError dead-letters the event with its message
    if (record === null || typeof record !== "object" || Array.isArray(record))
      throw invalidInput("expected a JSON object");
    record.tag = tag;
    return JSON.stringify(record);
  },
});
