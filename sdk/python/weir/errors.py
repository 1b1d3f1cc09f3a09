"""Errors a plugin raises, and how they become the WIT ``error`` the host reads."""

from componentize_py_types import Err
from wit_world.imports import types


class WeirError(Exception):
    """An error for the host; ``kind`` says how the host reacts (see ``wit/types.wit``)."""

    kind = types.ErrorKind.INTERNAL


class ConfigError(WeirError):
    """The settings are wrong: the host refuses to start the operator."""

    kind = types.ErrorKind.INVALID_CONFIG


class InvalidInput(WeirError):
    """This input cannot be processed: the event goes to the dead-letter output."""

    kind = types.ErrorKind.INVALID_INPUT


def to_wit(error: BaseException) -> Err:
    """The WIT error for any exception (an unexpected one is ``internal``)."""
    kind = error.kind if isinstance(error, WeirError) else types.ErrorKind.INTERNAL
    message = str(error) if isinstance(error, WeirError) else f"{type(error).__name__}: {error}"
    return Err(types.Error(kind=kind, message=message))
