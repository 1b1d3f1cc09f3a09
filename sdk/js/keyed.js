// Keyed process functions (world keyed-process) for Weir's JavaScript SDK: per-key
// state and timers in the host. One instance serves many keys and may be replaced at
// any moment: keep nothing per key in the operator, only in states declared in `init`.
//   export const keyedProcessor = exportKeyed({ name, version, outputs,
//     init(settings, states) {...}, process(event, ctx, out) {...},
//     onTimer(timer, ctx, out) {...} });
// A throw fails the whole call (the host rolls back its state writes and re-runs the
// batch event by event); to refuse one event before touching its state, `out.reject`.

import * as timers from "weir:operator/timers@0.1.0";
import { States, unwrap } from "./state.js";
import { Output, describe, events, guarded, parseSettings } from "./weir.js";

/** The key at hand and its timers; states take it as their scope. */
export class KeyedContext {
  constructor(scope, key) {
    this.scope = scope;
    this.key = key;
  }
  registerEventTimer(at) { unwrap(() => timers.register(this.scope, "event-time", at)); }
  deleteEventTimer(at) { unwrap(() => timers.delete(this.scope, "event-time", at)); }
  registerProcessingTimer(at) { unwrap(() => timers.register(this.scope, "processing-time", at)); }
  /** The operator's watermark, or null before the first one. */
  watermark() { return timers.watermark(); }
}

/** The `keyedProcessor` export of a keyed process function. */
export function exportKeyed(operator) {
  return {
    describe: () => describe(operator),
    init: (settings) => guarded(() => operator.init && operator.init(parseSettings(settings), new States())),
    process: (batch) =>
      guarded(() => {
        const out = new Output();
        for (const event of events(batch))
          operator.process(event, new KeyedContext(event.index, event.key), out);
        return out.build();
      }),
    onTimer: (fired) =>
      guarded(() => {
        const out = new Output();
        fired.forEach((timer, scope) => {
          if (operator.onTimer)
            operator.onTimer({ key: timer.key, at: timer.at, eventTime: timer.domain === "event-time" },
              new KeyedContext(scope, timer.key), out);
        });
        return out.build();
      }),
  };
}
