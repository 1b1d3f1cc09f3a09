// {{name}}: a Weir window process function in JavaScript (world window-process).
// For each window that fires, emits {"key", "start", "end", "events", "first", "last"}:
// the number of events and the first and last event times, keyed by the window's key
// at its last millisecond. Build: `weir build`; test: `weir test`.

import { utf8Decode } from "./build/weir-sdk/weir.js";
import { exportWindow } from "./build/weir-sdk/window.js";

export const windowProcessor = exportWindow({
  name: "{{name}}",
  version: "0.1.0",
  process(window, events, out) {
    window.emitJson(out, {
      key: window.key ? utf8Decode(window.key) : "",
      start: window.start,
      end: window.end,
      events: events.length,
      first: events.length ? events[0].timestamp : null,
      last: events.length ? events[events.length - 1].timestamp : null,
    });
  },
});
