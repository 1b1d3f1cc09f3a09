"""Stateless operators (world ``stateless-processor``): :class:`Map` and
:class:`Processor`, and the export glue that componentize-py calls."""

from wit_world.imports import types

from .errors import to_wit
from .events import events
from .output import Output
from .settings import parse_settings


class Plugin:
    """What every kind has: ``name``, ``version``, declared named ``outputs``, and
    ``init(settings)`` (a dict; raise :class:`weir.ConfigError` to refuse it)."""

    name = "unnamed"
    version = "0.1.0"
    outputs = ()

    def init(self, settings: dict):
        pass


def describe(plugin) -> types.PluginInfo:
    return types.PluginInfo(
        name=plugin.name, version=plugin.version, outputs=list(plugin.outputs)
    )


class Processor(Plugin):
    """Sees a whole batch: override :meth:`process`."""

    def process(self, batch, out: Output):
        """Handles the events of one batch (``weir.events(batch)``), emitting to ``out``.
        An exception fails the call: the host re-runs the batch event by event."""
        raise NotImplementedError


class Map(Plugin):
    """Rewrites each event's value: override :meth:`map`."""

    def map(self, event) -> bytes:
        """The new value of ``event`` (bytes; a ``str`` is encoded as UTF-8).
        An exception sends this event to the dead-letter output with its message."""
        raise NotImplementedError


def _export(operator_class, run):
    """A class with the methods of the WIT export ``processor`` around ``operator_class``."""

    # componentize-py makes a new `Export` for every call: the operator lives in the
    # class, one per component instance.
    class Export:
        operator = operator_class()

        def describe(self):
            return describe(self.operator)

        def init(self, settings):
            try:
                self.operator.init(parse_settings(settings))
            except Exception as error:
                raise to_wit(error)

        def process(self, batch):
            out = Output()
            try:
                run(self.operator, batch, out)
            except Exception as error:
                raise to_wit(error)
            return out.build()

    Export.__name__ = Export.__qualname__ = f"Export[{operator_class.__name__}]"
    return Export


def _run_processor(operator, batch, out):
    operator.process(batch, out)


def _run_map(operator, batch, out):
    for event in events(batch):
        try:
            value = operator.map(event)
        except Exception as error:
            out.reject(event, error)
            continue
        if isinstance(value, str):
            value = value.encode()
        out.emit_value(event, value)


def export_processor(operator_class):
    """The export for a :class:`Processor`: assign it to ``Processor`` in your app."""
    return _export(operator_class, _run_processor)


def export_map(operator_class):
    """The export for a :class:`Map`: assign it to ``Processor`` in your app."""
    return _export(operator_class, _run_map)
