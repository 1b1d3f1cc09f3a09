"""Host-kept state for keyed and window process functions: bytes per scope (a key, or
a key and a window), declared in ``init``."""

from wit_world.imports import state


class ValueState:
    """A value state: bytes per key (encode typed values yourself, e.g. with
    ``struct`` or JSON). Pass the call's context, which stands for the key."""

    def __init__(self, state_id: int):
        self.id = state_id

    def get(self, ctx):
        return state.get(self.id, ctx.scope)

    def set(self, ctx, value: bytes):
        state.set(self.id, ctx.scope, bytes(value))

    def clear(self, ctx):
        state.clear(self.id, ctx.scope)


class States:
    """Declares states during ``init``."""

    def value(self, name: str, ttl_ms: int = None) -> ValueState:
        spec = state.StateSpec(name=name, kind=state.StateKind.VALUE, ttl_ms=ttl_ms)
        return ValueState(state.declare(spec))
