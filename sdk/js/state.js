// Host-kept state for keyed and window process functions (Weir's JavaScript SDK):
// bytes (Uint8Array) per scope — a key, or a key and a window — declared in `init`.

import * as state from "weir:operator/state@0.1.0";
import { WeirError } from "./weir.js";

/** A value state: bytes (Uint8Array) per key; pass the call's context. */
export class ValueState {
  constructor(id) { this.id = id; }
  get(ctx) { return unwrap(() => state.get(this.id, ctx.scope)); }
  set(ctx, value) { unwrap(() => state.set(this.id, ctx.scope, value)); }
  clear(ctx) { unwrap(() => state.clear(this.id, ctx.scope)); }
}

/** Declares states during `init`. */
export class States {
  value(name, ttlMs = null) {
    return new ValueState(unwrap(() => state.declare({ name, kind: "value", ttlMs })));
  }
}

/** A state-error thrown by the bindings as a WeirError with a readable message. */
export function unwrap(call) {
  try {
    return call();
  } catch (error) {
    if (error instanceof Error) throw error;
    const detail = error && error.tag ? `${error.tag}${error.val !== undefined ? ` (${error.val})` : ""}` : String(error);
    throw new WeirError("internal", `state: ${detail}`);
  }
}
