"""Window process functions (world ``window-process``): all events of a key's window
when it fires, with optional per-window state (declared in ``init``; a state call
takes the firing's context)."""

from .errors import to_wit
from .events import events, firings
from .output import Output
from .processor import Plugin, describe
from .settings import parse_settings
from .state import States


class WindowContext:
    """One firing: ``key`` (bytes or None), ``start``, ``end`` (``[start, end)``),
    ``kind`` (``"early"``, ``"on-time"`` or ``"late"``), ``index`` (earlier firings of
    this window); states take it as their scope."""

    __slots__ = ("scope", "key", "start", "end", "kind", "index")

    def __init__(self, scope, key, start, end, kind, index):
        self.scope = scope
        self.key = key
        self.start = start
        self.end = end
        self.kind = kind
        self.index = index

    def emit_json(self, out: Output, value):
        """Emits ``value`` as JSON, keyed by the window's key at its last millisecond."""
        out.emit_new_json(self.key, value, self.end - 1)


class WindowProcessor(Plugin):
    """Override ``init(settings, states)`` and :meth:`process`. An exception fails the
    call: the host dead-letters the window's events with the message."""

    def init(self, settings: dict, states: States):
        pass

    def process(self, window: WindowContext, window_events: list, out: Output):
        raise NotImplementedError


def export_window(operator_class):
    """The export for a :class:`WindowProcessor`: assign it to ``WindowProcessor``."""

    class Export:
        # componentize-py makes a new `Export` for every call: the operator lives in
        # the class, one per component instance.
        operator = operator_class()

        def describe(self):
            return describe(self.operator)

        def init(self, settings):
            try:
                self.operator.init(parse_settings(settings), States())
            except Exception as error:
                raise to_wit(error)

        def process(self, columns, event_ends, batch):
            out = Output()
            try:
                all_events = list(events(batch))
                start = 0
                for scope, (firing, end) in enumerate(zip(firings(columns), event_ends)):
                    window = WindowContext(scope, *firing)
                    self.operator.process(window, all_events[start:end], out)
                    start = end
            except Exception as error:
                raise to_wit(error)
            return out.build()

    Export.__name__ = Export.__qualname__ = f"Export[{operator_class.__name__}]"
    return Export
