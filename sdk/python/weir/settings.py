"""Operator settings: the JSON object from the pipeline file, as a dict."""

import json

from .errors import ConfigError


def parse_settings(text: str) -> dict:
    """The settings as a dict; anything but a JSON object is a :class:`ConfigError`."""
    try:
        settings = json.loads(text) if text else {}
    except ValueError as error:
        raise ConfigError(f"settings are not JSON: {error}") from None
    if not isinstance(settings, dict):
        raise ConfigError("settings must be a JSON object")
    return settings
