"""`xlang-keyed` in Python: the same keyed aggregate as `plugins/xlang-keyed` (Rust;
its docs are the specification): running count and sum of `amount` per key, and per
`bucket_ms` bucket a timer that emits the bucket's totals to `totals` and clears them.
The state `totals` is 16 bytes, count and sum as little-endian i64, as in every port.

Build: `scripts/build-lang-plugins` (componentize-py, world `keyed-process`).
"""

import json
import struct

import weir

REASON = "expected a JSON object with an integer `amount` from 0 to 2^53-1"
MAX_AMOUNT = 2**53 - 1
MAX_SUM = 2**63 - 1
TOTALS = struct.Struct("<qq")


def amount_of(value):
    try:
        record = json.loads(value)
    except ValueError:
        return None
    amount = record.get("amount") if type(record) is dict else None
    if type(amount) is not int or not 0 <= amount <= MAX_AMOUNT:
        return None
    return amount


class Totals(weir.KeyedProcessor):
    name = "xlang-keyed"
    version = "0.1.0"
    outputs = ("totals",)

    def init(self, settings, states):
        unknown = set(settings) - {"bucket_ms"}
        if unknown:
            raise weir.ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        self.bucket_ms = settings.get("bucket_ms", 10000)
        if type(self.bucket_ms) is not int or self.bucket_ms < 1:
            raise weir.ConfigError("settings: `bucket_ms` must be at least 1")
        self.totals = states.value("totals")

    def read(self, ctx):
        stored = self.totals.get(ctx)
        return (0, 0) if stored is None else TOTALS.unpack(stored)

    def process(self, event, ctx, out):
        amount = amount_of(event.value)
        if amount is None:
            out.reject(event, REASON)
            return
        count, total = self.read(ctx)
        count, total = count + 1, min(total + amount, MAX_SUM)
        self.totals.set(ctx, TOTALS.pack(count, total))
        at = event.timestamp
        ctx.register_event_timer(at - at % self.bucket_ms + self.bucket_ms)
        key = (event.key or b"").decode("utf-8", "replace")
        out.emit_json(event, {"key": key, "count": count, "sum": total})

    def on_timer(self, timer, ctx, out):
        count, total = self.read(ctx)
        self.totals.clear(ctx)
        key = timer.key.decode("utf-8", "replace")
        bucket = {"key": key, "bucket_end": timer.at, "count": count, "sum": total}
        out.emit_new_json(timer.key, bucket, timer.at, output="totals")


KeyedProcessor = weir.export_keyed(Totals)
