"""The teleoperator registry: a kind ("keyboard", "gamepad", "spacemouse") names a device class.

    device = make_teleop("gamepad", dead_zone=0.15, controls={"engage": "button4"})

Classes are imported lazily, and their libraries only in `connect()`, so naming a device never
needs its library. Adding a device is one entry in `TELEOP_KINDS` ("module:Class").
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from fleetrl.core.errors import ConfigError
from fleetrl.hardware.teleop.base import Teleoperator

TELEOP_KINDS: dict[str, str] = {
    "keyboard": "fleetrl.hardware.teleop.keyboard:KeyboardTeleop",
    "gamepad": "fleetrl.hardware.teleop.gamepad:GamepadTeleop",
    "spacemouse": "fleetrl.hardware.teleop.spacemouse:SpaceMouseTeleop",
}


def teleop_class(kind: str) -> type[Teleoperator]:
    """The class registered as `kind`; `ConfigError` listing the known kinds otherwise."""
    try:
        target = TELEOP_KINDS[kind]
    except KeyError:
        raise ConfigError(f"unknown teleop kind {kind!r}; known kinds: {', '.join(sorted(TELEOP_KINDS))}") from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_teleop(kind: str, **options: Any) -> Teleoperator:
    """Build (but do not connect) a `kind` device; `options` are its constructor's keywords.

    An option the class does not take is a `ConfigError` naming it.
    """
    cls = teleop_class(kind)
    try:
        inspect.signature(cls).bind(**options)
    except TypeError as err:  # an unknown or misspelt option
        raise ConfigError(f"teleop {kind!r}: {err}") from None
    return cls(**options)
