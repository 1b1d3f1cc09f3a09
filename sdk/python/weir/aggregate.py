"""Incremental window aggregates (world ``window-aggregate``): the host assigns windows,
keeps the accumulators and fires the windows; the plugin adds, merges and finishes.

An accumulator is any Python value the operator's :meth:`Aggregate.encode` turns into
bytes and :meth:`Aggregate.decode` reads back (JSON by default); the host stores the
bytes, never the object, so the instance keeps nothing between calls.
"""

import json

from wit_world.imports import types

from .errors import to_wit
from .events import events, firings
from .processor import Plugin, describe
from .settings import parse_settings


class Firing:
    """A window that fires: ``key`` (bytes or None), ``start``, ``end`` (event times,
    ``[start, end)``), ``kind`` (``"early"``, ``"on-time"`` or ``"late"``) and ``index``."""

    __slots__ = ("key", "start", "end", "kind", "index")

    def __init__(self, key, start, end, kind, index):
        self.key = key
        self.start = start
        self.end = end
        self.kind = kind
        self.index = index


class Aggregate(Plugin):
    """Override :meth:`create`, :meth:`add`, :meth:`merge` and :meth:`finish`."""

    def create(self):
        """A fresh accumulator."""
        raise NotImplementedError

    def add(self, accumulator, event):
        """``accumulator`` with ``event`` added (return the new or the updated one)."""
        raise NotImplementedError

    def merge(self, accumulators):
        """One accumulator for a non-empty list of them (associative)."""
        raise NotImplementedError

    def finish(self, accumulator, firing: Firing) -> bytes:
        """The value of the window's result event."""
        raise NotImplementedError

    def encode(self, accumulator) -> bytes:
        return json.dumps(accumulator, separators=(",", ":")).encode()

    def decode(self, data: bytes):
        return json.loads(data)


def _unpack(packed: types.PackedBytes):
    start = 0
    for end in packed.ends:
        yield packed.bytes[start:end]
        start = end


def _pack(items) -> types.PackedBytes:
    data, ends = bytearray(), []
    for item in items:
        data += item
        ends.append(len(data))
    return types.PackedBytes(bytes=bytes(data), ends=ends)


def export_aggregate(operator_class):
    """The export for an :class:`Aggregate`: assign it to ``Aggregator`` in your app."""

    class Export:
        # componentize-py makes a new `Export` for every call: the operator lives in
        # the class, one per component instance.
        operator = operator_class()

        def _read(self, packed):
            op = self.operator
            return [op.decode(data) if data else op.create() for data in _unpack(packed)]

        def describe(self):
            return describe(self.operator)

        def init(self, settings):
            try:
                self.operator.init(parse_settings(settings))
            except Exception as error:
                raise to_wit(error)

        def add(self, accumulators, batch, targets):
            try:
                accs = self._read(accumulators)
                for event in events(batch):
                    target = targets[event.index]
                    accs[target] = self.operator.add(accs[target], event)
                return _pack(self.operator.encode(acc) for acc in accs)
            except Exception as error:
                raise to_wit(error)

        def merge(self, inputs, group_ends):
            try:
                accs = self._read(inputs)
                merged, start = [], 0
                for end in group_ends:
                    merged.append(self.operator.encode(self.operator.merge(accs[start:end])))
                    start = end
                return _pack(merged)
            except Exception as error:
                raise to_wit(error)

        def finish(self, accumulators, columns):
            try:
                accs = self._read(accumulators)
                results = []
                for acc, firing in zip(accs, firings(columns)):
                    value = self.operator.finish(acc, Firing(*firing))
                    results.append(value.encode() if isinstance(value, str) else value)
                return _pack(results)
            except Exception as error:
                raise to_wit(error)

    Export.__name__ = Export.__qualname__ = f"Export[{operator_class.__name__}]"
    return Export
