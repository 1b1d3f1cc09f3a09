// Weir's JavaScript SDK: write a Weir operator as an ES module, build it with
// `jco componentize --backend quickjs --backend-qjs-disable-async` (see docs/languages.md).
//
// The bindings deal in columnar batches (wit/types.wit); this module turns them into
// events and outputs, as the Rust SDK does:
//   exportMap(operator)    — one new value per event (world stateless-processor)
//   exportKeyed(operator)  — per-key state and timers in the host (world keyed-process)
// Export the result under the world's export name, e.g.
//   export const processor = exportMap({ name: "upper", version: "0.1.0",
//     map(event) { return event.text().toUpperCase(); } });
// Throw `invalidInput(reason)` (or any Error) in `map` to dead-letter one event; in the
// other kinds a throw fails the call, which the host re-runs event by event.

/** UTF-8 bytes of a string (QuickJS has no TextEncoder). */
export function utf8Encode(text) {
  const ascii = new Uint8Array(text.length);
  let i = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) break;
    ascii[i] = code;
  }
  if (i === text.length) return ascii; // the common case: plain ASCII
  const bytes = [];
  for (let i = 0; i < text.length; i++) {
    let code = text.codePointAt(i);
    if (code > 0xffff) i++;
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // a lone surrogate
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000)
      bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 63),
        0x80 | ((code >> 6) & 63),
        0x80 | (code & 63),
      );
  }
  return Uint8Array.from(bytes);
}

/** The string of UTF-8 `bytes`; a malformed sequence reads as U+FFFD. */
export function utf8Decode(bytes) {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) { ascii = false; break; }
  if (ascii) {
    // The common case: plain ASCII, decoded in chunks (apply has an argument limit).
    let text = "";
    for (let i = 0; i < bytes.length; i += 8192)
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return text;
  }
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    const byte = bytes[i];
    let code = 0xfffd;
    let length = 1;
    if (byte < 0x80) code = byte;
    else {
      length = byte >= 0xf0 && byte < 0xf5 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 1;
      if (length > 1 && i + length <= bytes.length) {
        code = byte & (0xff >> (length + 1));
        for (let k = 1; k < length; k++) {
          const next = bytes[i + k];
          if ((next & 0xc0) !== 0x80) { code = -1; length = k; break; }
          code = (code << 6) | (next & 63);
        }
        const least = [0, 0, 0x80, 0x800, 0x10000][length];
        if (code < least || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) code = 0xfffd;
      } else length = 1;
      if (code < 0) code = 0xfffd;
    }
    text += String.fromCodePoint(code);
    i += length;
  }
  return text;
}

/** An error for the host. `kind`: "invalid-config" | "invalid-input" | "internal". */
export class WeirError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}
export const configError = (message) => new WeirError("invalid-config", message);
export const invalidInput = (message) => new WeirError("invalid-input", message);

/** The WIT `error` for anything thrown. */
function toWit(error) {
  if (error instanceof WeirError) return { kind: error.kind, message: error.message };
  return { kind: "internal", message: String(error) };
}

/** The settings JSON as an object (anything else is a config error). */
export function parseSettings(text) {
  let settings;
  try {
    settings = text ? JSON.parse(text) : {};
  } catch (error) {
    throw configError(`settings are not JSON: ${error.message}`);
  }
  if (settings === null || typeof settings !== "object" || Array.isArray(settings))
    throw configError("settings must be a JSON object");
  return settings;
}

/** One event: index in its batch, key (Uint8Array or null), value, timestamp, headers. */
export class Event {
  constructor(index, key, value, timestamp, headers) {
    this.index = index;
    this.key = key;
    this.value = value;
    this.timestamp = timestamp;
    this.headers = headers;
  }
  /** The value as text. */
  text() { return utf8Decode(this.value); }
  /** The value parsed as JSON (throws when it is not). */
  json() { return JSON.parse(this.text()); }
  /** The key as text ("" when there is none). */
  keyText() { return this.key ? utf8Decode(this.key) : ""; }
}

/** The events of a WIT batch, in order. */
export function* events(batch) {
  const keyless = new Set(batch.keyless);
  const headers = new Map();
  for (const header of batch.headers) {
    if (!headers.has(header.event)) headers.set(header.event, []);
    headers.get(header.event).push([header.name, header.value]);
  }
  let valueStart = 0;
  let keyStart = 0;
  const n = batch.timestamps.length;
  for (let i = 0; i < n; i++) {
    const valueEnd = batch.valueEnds[i];
    const keyEnd = batch.keyEnds[i];
    const key = keyless.has(i) ? null : batch.keys.subarray(keyStart, keyEnd);
    yield new Event(i, key, batch.values.subarray(valueStart, valueEnd), batch.timestamps[i],
      headers.get(i) || []);
    valueStart = valueEnd;
    keyStart = keyEnd;
  }
}

/** The window firings of a call (WIT `window-firings`, by column), one object each:
 * { key (Uint8Array or null), start, end, kind ("early", "on-time" or "late"), index }. */
export function firings(columns) {
  const keyless = new Set(columns.keyless);
  const out = [];
  let keyStart = 0;
  for (let i = 0; i < columns.starts.length; i++) {
    const keyEnd = columns.keyEnds[i];
    out.push({
      key: keyless.has(i) ? null : columns.keys.subarray(keyStart, keyEnd),
      start: columns.starts[i],
      end: columns.ends[i],
      kind: columns.kinds[i],
      index: columns.indexes[i],
    });
    keyStart = keyEnd;
  }
  return out;
}

/** Collects events into the columns of a WIT batch. */
class BatchBuilder {
  constructor() {
    this.timestamps = [];
    this.chunks = [];
    this.valueEnds = [];
    this.valueLength = 0;
    this.keyChunks = [];
    this.keyEnds = [];
    this.keyLength = 0;
    this.keyless = [];
    this.headers = [];
  }
  push(key, value, timestamp, headers) {
    const index = this.timestamps.length;
    this.timestamps.push(timestamp);
    this.chunks.push(value);
    this.valueLength += value.length;
    this.valueEnds.push(this.valueLength);
    if (key === null || key === undefined) this.keyless.push(index);
    else {
      this.keyChunks.push(key);
      this.keyLength += key.length;
    }
    this.keyEnds.push(this.keyLength);
    for (const [name, headerValue] of headers || [])
      this.headers.push({ event: index, name, value: headerValue });
  }
  build() {
    return {
      timestamps: this.timestamps,
      values: concat(this.chunks, this.valueLength),
      valueEnds: this.valueEnds,
      keys: concat(this.keyChunks, this.keyLength),
      keyEnds: this.keyEnds,
      keyless: this.keyless,
      headers: this.headers,
    };
  }
}

function concat(chunks, length) {
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

const asBytes = (value) => (typeof value === "string" ? utf8Encode(value) : value);

/** What one call emits: main output, named outputs and dead letters. */
export class Output {
  constructor() {
    this.main = new BatchBuilder();
    this.named = new Map();
    this.rejected = [];
  }
  /** Passes `event` on unchanged. */
  emit(event) { this.main.push(event.key, event.value, event.timestamp, event.headers); }
  /** Emits `event` with its value replaced (bytes or a string). */
  emitValue(event, value) {
    this.main.push(event.key, asBytes(value), event.timestamp, event.headers);
  }
  /** Emits `event` with its value replaced by `value` as JSON. */
  emitJson(event, value) { this.emitValue(event, JSON.stringify(value)); }
  /** Emits a new event to the main output, or to the named `output`. */
  emitNew(key, value, timestamp, output) {
    const target = output === undefined ? this.main : this.namedBatch(output);
    target.push(key, asBytes(value), timestamp, []);
  }
  /** `emitNew` with `value` as JSON. */
  emitNewJson(key, value, timestamp, output) {
    this.emitNew(key, JSON.stringify(value), timestamp, output);
  }
  /** Passes `event` on to the named `output` (declared in `outputs`). */
  emitTo(output, event) {
    this.namedBatch(output).push(event.key, event.value, event.timestamp, event.headers);
  }
  /** Sends the input `event` to the dead-letter output with `reason`. */
  reject(event, reason) { this.rejected.push({ event: event.index, reason: String(reason) }); }
  namedBatch(output) {
    if (!this.named.has(output)) this.named.set(output, new BatchBuilder());
    return this.named.get(output);
  }
  build() {
    return {
      main: this.main.build(),
      named: [...this.named].map(([output, batch]) => ({ output, events: batch.build() })),
      rejected: this.rejected,
    };
  }
}

/** The WIT `plugin-info` of an operator object. */
export function describe(operator) {
  return {
    name: operator.name || "unnamed",
    version: operator.version || "0.1.0",
    outputs: [...(operator.outputs || [])],
  };
}

/** Runs `body`, turning what it throws into the WIT error. */
export function guarded(body) {
  try {
    return body();
  } catch (error) {
    throw toWit(error);
  }
}

/**
 * The `processor` export of a map: `operator.map(event)` returns the new value (bytes or a
 * string); `operator.init(settings)` (optional) reads the settings object.
 */
export function exportMap(operator) {
  return {
    describe: () => describe(operator),
    init: (settings) => guarded(() => operator.init && operator.init(parseSettings(settings))),
    process: (batch) =>
      guarded(() => {
        const out = new Output();
        for (const event of events(batch)) {
          let value;
          try {
            value = operator.map(event);
          } catch (error) {
            out.reject(event, error instanceof Error ? error.message : String(error));
            continue;
          }
          out.emitValue(event, value);
        }
        return out.build();
      }),
  };
}

/** The `processor` export of an operator that sees whole batches: `process(batch, out)`. */
export function exportProcessor(operator) {
  return {
    describe: () => describe(operator),
    init: (settings) => guarded(() => operator.init && operator.init(parseSettings(settings))),
    process: (batch) =>
      guarded(() => {
        const out = new Output();
        operator.process(batch, out);
        return out.build();
      }),
  };
}
