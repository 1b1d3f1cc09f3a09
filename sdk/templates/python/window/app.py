"""{{name}}: a Weir window process function in Python (world `window-process`).

For each window that fires, emits `{"key", "start", "end", "events", "first", "last"}`:
the number of events and the first and last event times, keyed by the window's key at
its last millisecond. Build: `weir build`; test: `weir test`.
"""

import weir


class Operator(weir.WindowProcessor):
    name = "{{name}}"
    version = "0.1.0"

    def process(self, window, window_events, out):
        window.emit_json(
            out,
            {
                "key": (window.key or b"").decode("utf-8", "replace"),
                "start": window.start,
                "end": window.end,
                "events": len(window_events),
                "first": window_events[0].timestamp if window_events else None,
                "last": window_events[-1].timestamp if window_events else None,
            },
        )


# componentize-py looks for the world's export here.
WindowProcessor = weir.export_window(Operator)
