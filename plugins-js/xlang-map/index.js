// `xlang-map` in JavaScript: the same operator as plugins/xlang-map (Rust; its docs are
// the specification): {"user","amount"} becomes {"user","amount","fee","total"} with
// fee = floor(amount * fee_percent / 100); anything else is dead-lettered.
// Build: scripts/build-lang-plugins (jco componentize, QuickJS, world stateless-processor).

import { configError, exportMap, invalidInput } from "./build/weir-sdk/weir.js";

const REASON = "expected a JSON object with a string `user` and an integer `amount` from 0 to 2^53-1";

/** The value of a JSON number token that is a plain integer (no fraction or exponent). */
const isPlainInteger = (value) => Number.isSafeInteger(value) && value >= 0;

let feePercent = 3;

export const processor = exportMap({
  name: "xlang-map",
  version: "0.1.0",
  init(settings) {
    for (const name of Object.keys(settings))
      if (name !== "fee_percent") throw configError(`unknown settings: ${name}`);
    const percent = settings.fee_percent === undefined ? 3 : settings.fee_percent;
    if (!Number.isInteger(percent) || percent < 0 || percent > 100)
      throw configError("`fee_percent` must be from 0 to 100");
    feePercent = percent;
  },
  map(event) {
    let record;
    try {
      record = event.json();
    } catch {
      throw invalidInput(REASON);
    }
    const ok = record !== null && typeof record === "object" && !Array.isArray(record);
    const user = ok ? record.user : undefined;
    const amount = ok ? record.amount : undefined;
    // JSON.parse reads 12.0 as 12: look at the text for a fraction or an exponent.
    if (typeof user !== "string" || !isPlainInteger(amount) || hasFractionalAmount(event.text()))
      throw invalidInput(REASON);
    // amount * percent may pass 2^53: BigInt keeps it exact.
    const fee = Number((BigInt(amount) * BigInt(feePercent)) / 100n);
    return JSON.stringify({ user, amount, fee, total: amount + fee });
  },
});

function hasFractionalAmount(text) {
  return /"amount"\s*:\s*-?\d+[.eE]/.test(text);
}
