"""Keyed process functions (world ``keyed-process``): per-key state and timers in the
host. The instance serves many keys and may be replaced at any moment: keep nothing
per key in ``self``, only in states declared in ``init``."""

from wit_world.imports import timers

from .errors import to_wit
from .events import events
from .output import Output
from .processor import Plugin, describe
from .settings import parse_settings
from .state import States


class KeyedContext:
    """The key at hand (``key``) and its timers; states take it as their scope."""

    __slots__ = ("scope", "key")

    def __init__(self, scope: int, key):
        self.scope = scope
        self.key = key

    def register_event_timer(self, at: int):
        timers.register(self.scope, timers.TimeDomain.EVENT_TIME, at)

    def delete_event_timer(self, at: int):
        timers.delete(self.scope, timers.TimeDomain.EVENT_TIME, at)

    def register_processing_timer(self, at: int):
        timers.register(self.scope, timers.TimeDomain.PROCESSING_TIME, at)

    def watermark(self):
        """The operator's watermark, or None before the first one."""
        return timers.watermark()


class Timer:
    """A due timer: ``key``, ``at`` and ``event_time`` (False: processing time)."""

    __slots__ = ("key", "at", "event_time")

    def __init__(self, key, at, event_time):
        self.key = key
        self.at = at
        self.event_time = event_time


class KeyedProcessor(Plugin):
    """Override ``init(settings, states)``, :meth:`process` and, for timers,
    :meth:`on_timer`. An exception fails the whole call (the host rolls back its state
    writes and re-runs the batch event by event); to refuse one event before touching
    its state, use ``out.reject``."""

    def init(self, settings: dict, states: States):
        pass

    def process(self, event, ctx: KeyedContext, out: Output):
        raise NotImplementedError

    def on_timer(self, timer: Timer, ctx: KeyedContext, out: Output):
        pass


def export_keyed(operator_class):
    """The export for a :class:`KeyedProcessor`: assign it to ``KeyedProcessor``."""

    # componentize-py makes a new `Export` for every call: the operator lives in the
    # class, one per component instance.
    class Export:
        operator = operator_class()

        def describe(self):
            return describe(self.operator)

        def init(self, settings):
            try:
                self.operator.init(parse_settings(settings), States())
            except Exception as error:
                raise to_wit(error)

        def process(self, batch):
            out = Output()
            try:
                for event in events(batch):
                    self.operator.process(event, KeyedContext(event.index, event.key), out)
            except Exception as error:
                raise to_wit(error)
            return out.build()

        def on_timer(self, fired):
            out = Output()
            try:
                for scope, timer in enumerate(fired):
                    due = Timer(
                        timer.key, timer.at, timer.domain == timers.TimeDomain.EVENT_TIME
                    )
                    self.operator.on_timer(due, KeyedContext(scope, timer.key), out)
            except Exception as error:
                raise to_wit(error)
            return out.build()

    Export.__name__ = Export.__qualname__ = f"Export[{operator_class.__name__}]"
    return Export
