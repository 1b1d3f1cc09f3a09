"""{{name}}: a Weir keyed process function in Python (world `keyed-process`).

Counts the events of each key in host state (`count`, a little-endian u64) and emits
`{"key": ..., "count": n}` for every event. Build: `weir build`; test: `weir test`.
"""

import struct

import weir

COUNT = struct.Struct("<Q")


class Operator(weir.KeyedProcessor):
    name = "{{name}}"
    version = "0.1.0"

    def init(self, settings, states):
        self.count = states.value("count")

    def process(self, event, ctx, out):
        stored = self.count.get(ctx)
        count = (COUNT.unpack(stored)[0] if stored else 0) + 1
        self.count.set(ctx, COUNT.pack(count))
        out.emit_json(event, {"key": (event.key or b"").decode("utf-8", "replace"), "count": count})


# componentize-py looks for the world's export here.
KeyedProcessor = weir.export_keyed(Operator)
