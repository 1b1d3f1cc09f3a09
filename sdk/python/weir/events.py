"""Events read from a WIT batch, and output batches built event by event.

A batch is columnar (see ``wit/types.wit``): event ``i``'s value is
``values[value_ends[i-1]:value_ends[i]]``, its key likewise unless ``i`` is in
``keyless``, and its headers are the entries of ``headers`` with ``event == i``.
"""

from wit_world.imports import types


class Event:
    """One event: ``index`` in its batch, ``key`` (bytes or None), ``value`` (bytes),
    ``timestamp`` (ms of event time) and ``headers`` (list of ``(name, value)``)."""

    __slots__ = ("index", "key", "value", "timestamp", "headers")

    def __init__(self, index, key, value, timestamp, headers):
        self.index = index
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.headers = headers

    def json(self):
        """The value parsed as JSON (raises ``ValueError`` when it is not)."""
        import json

        return json.loads(self.value)

    def __repr__(self):
        return (
            f"Event(index={self.index}, key={self.key!r}, value={self.value!r}, "
            f"timestamp={self.timestamp})"
        )


def events(batch: types.Batch):
    """The events of ``batch``, in order."""
    values, keys = batch.values, batch.keys
    value_ends, key_ends = batch.value_ends, batch.key_ends
    keyless = set(batch.keyless)
    headers = {}
    for header in batch.headers:
        headers.setdefault(header.event, []).append((header.name, header.value))
    value_start = key_start = 0
    for index, timestamp in enumerate(batch.timestamps):
        value_end, key_end = value_ends[index], key_ends[index]
        key = None if index in keyless else keys[key_start:key_end]
        yield Event(
            index,
            key,
            values[value_start:value_end],
            timestamp,
            headers.get(index, []),
        )
        value_start, key_start = value_end, key_end


def firings(columns):
    """The window firings of a call (WIT ``window-firings``, by column), in order, as
    ``(key, start, end, kind, index)`` tuples: ``key`` is bytes or None, ``kind``
    ``"early"``, ``"on-time"`` or ``"late"``."""
    keys, key_ends = columns.keys, columns.key_ends
    keyless = set(columns.keyless)
    key_start = 0
    for index, start in enumerate(columns.starts):
        key_end = key_ends[index]
        key = None if index in keyless else keys[key_start:key_end]
        kind = columns.kinds[index].name.lower().replace("_", "-")
        yield key, start, columns.ends[index], kind, columns.indexes[index]
        key_start = key_end


class BatchBuilder:
    """Collects events into the columns of a WIT batch."""

    __slots__ = ("timestamps", "values", "value_ends", "keys", "key_ends", "keyless", "headers")

    def __init__(self):
        self.timestamps = []
        self.values = bytearray()
        self.value_ends = []
        self.keys = bytearray()
        self.key_ends = []
        self.keyless = []
        self.headers = []

    def push(self, key, value, timestamp, headers=()):
        index = len(self.timestamps)
        self.timestamps.append(timestamp)
        self.values += value
        self.value_ends.append(len(self.values))
        if key is None:
            self.keyless.append(index)
        else:
            self.keys += key
        self.key_ends.append(len(self.keys))
        for name, header_value in headers:
            self.headers.append(types.Header(event=index, name=name, value=bytes(header_value)))

    def __len__(self):
        return len(self.timestamps)

    def build(self) -> types.Batch:
        return types.Batch(
            timestamps=self.timestamps,
            values=bytes(self.values),
            value_ends=self.value_ends,
            keys=bytes(self.keys),
            key_ends=self.key_ends,
            keyless=self.keyless,
            headers=self.headers,
        )
