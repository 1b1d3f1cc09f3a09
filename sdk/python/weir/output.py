"""What one call emits: the main output, named outputs and dead letters."""

import json

from wit_world.imports import types

from .events import BatchBuilder


def to_json_bytes(value) -> bytes:
    """Compact JSON, UTF-8, fields in insertion order (as the Rust SDK writes it)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Output:
    """Collects the events a call emits. Emitting an input event keeps its key, time
    and headers; ``emit_new*`` make new events."""

    def __init__(self):
        self._main = BatchBuilder()
        self._named = {}
        self._rejected = []

    def emit(self, event):
        """Passes ``event`` on unchanged."""
        self._main.push(event.key, event.value, event.timestamp, event.headers)

    def emit_value(self, event, value: bytes):
        """Emits ``event`` with its value replaced."""
        self._main.push(event.key, value, event.timestamp, event.headers)

    def emit_json(self, event, value):
        """Emits ``event`` with its value replaced by ``value`` as JSON."""
        self.emit_value(event, to_json_bytes(value))

    def emit_new(self, key, value: bytes, timestamp: int, output: str = None):
        """Emits a new event to the main output, or to the named ``output``."""
        target = self._main if output is None else self._named_batch(output)
        target.push(key, value, timestamp)

    def emit_new_json(self, key, value, timestamp: int, output: str = None):
        """:meth:`emit_new` with ``value`` as JSON."""
        self.emit_new(key, to_json_bytes(value), timestamp, output)

    def emit_to(self, output: str, event):
        """Passes ``event`` on to the named ``output`` (declared in ``outputs``)."""
        self._named_batch(output).push(event.key, event.value, event.timestamp, event.headers)

    def reject(self, event, reason):
        """Sends the input ``event`` to the dead-letter output with ``reason``."""
        self._rejected.append(types.Rejection(event=event.index, reason=str(reason)))

    def _named_batch(self, output):
        batch = self._named.get(output)
        if batch is None:
            batch = self._named[output] = BatchBuilder()
        return batch

    def build(self) -> types.Outputs:
        return types.Outputs(
            main=self._main.build(),
            named=[
                types.NamedBatch(output=name, events=batch.build())
                for name, batch in self._named.items()
            ],
            rejected=self._rejected,
        )
