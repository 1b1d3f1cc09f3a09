// Window process functions (world window-process) for Weir's JavaScript SDK: all
// events of a key's window when it fires, with optional per-window state.
//   export const windowProcessor = exportWindow({ name, version, init(settings, states),
//     process(window, events, out) {...} });
// `window`: { key, start, end, kind, index, scope }; window.emitJson(out, value) emits
// keyed by the window's key at its last millisecond. A throw fails the call: the host
// dead-letters the window's events with the message.

import { States } from "./state.js";
import { Output, describe, events, firings, guarded, parseSettings } from "./weir.js";

/** The `windowProcessor` export of a window process function. */
export function exportWindow(operator) {
  return {
    describe: () => describe(operator),
    init: (settings) =>
      guarded(() => operator.init && operator.init(parseSettings(settings), new States())),
    process: (columns, eventEnds, batch) =>
      guarded(() => {
        const out = new Output();
        const all = [...events(batch)];
        let start = 0;
        firings(columns).forEach((firing, scope) => {
          const end = eventEnds[scope];
          const window = {
            scope,
            key: firing.key,
            start: firing.start,
            end: firing.end,
            kind: firing.kind,
            index: firing.index,
            emitJson: (target, value) => target.emitNewJson(firing.key, value, firing.end - 1),
          };
          operator.process(window, all.slice(start, end), out);
          start = end;
        });
        return out.build();
      }),
  };
}
