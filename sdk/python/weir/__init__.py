"""Weir's Python SDK: write a Weir operator in Python, build it with componentize-py.

The WIT bindings componentize-py generates (``wit_world``) deal in columnar batches;
this package turns them into events and outputs, the way the Rust SDK does:

- :class:`Map` — one new value per event (world ``stateless-processor``);
- :class:`Processor` — a whole batch at a time, for filters and flat-maps;
- :class:`KeyedProcessor` — per-key state and timers in the host (world
  ``keyed-process``);
- :class:`Aggregate` — an incremental window aggregate (world ``window-aggregate``);
- :class:`WindowProcessor` — all events of a window at once (world ``window-process``).

Export one of them under the name the world's export has, e.g.::

    import weir

    class Upper(weir.Map):
        name, version = "upper", "0.1.0"
        def map(self, event):
            return event.value.upper()

    Processor = weir.export_map(Upper)

Raise :class:`InvalidInput` to send one event to the dead-letter output (``Map``), or
to fail a call, which the host re-runs event by event (the other kinds).
"""

from .errors import ConfigError, InvalidInput, WeirError
from .events import Event, events
from .output import Output
from .processor import Map, Processor, export_map, export_processor
from .settings import parse_settings

__all__ = [
    "ConfigError",
    "Event",
    "InvalidInput",
    "Map",
    "Output",
    "Processor",
    "WeirError",
    "events",
    "export_map",
    "export_processor",
    "parse_settings",
]


def __getattr__(name):
    # The state, keyed, aggregate and window layers import interfaces only their worlds have, so they
    # load on first use: a map's component has no `state` import to bind.
    if name in ("States", "ValueState"):
        from . import state

        return getattr(state, name)
    if name in ("KeyedProcessor", "KeyedContext", "Timer", "export_keyed"):
        from . import keyed

        return getattr(keyed, name)
    if name in ("Aggregate", "Firing", "export_aggregate"):
        from . import aggregate

        return getattr(aggregate, name)
    if name in ("WindowProcessor", "WindowContext", "export_window"):
        from . import window

        return getattr(window, name)
    raise AttributeError(f"module 'weir' has no attribute {name!r}")
