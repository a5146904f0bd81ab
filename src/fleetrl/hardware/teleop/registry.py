"""The teleoperator registry: a kind ("keyboard", "gamepad", "spacemouse") names a device class.

    device = make_teleop("gamepad", dead_zone=0.15, controls={"engage": "button4"})

Classes are imported lazily, and their libraries only in `connect()`, so naming a device never
needs its library. Adding a device is one entry in `TELEOP` ("module:Class"), or `TELEOP.register(...)` from
the user's own module.
"""

from __future__ import annotations

import inspect
from typing import Any

from fleetrl.core.errors import ConfigError
from fleetrl.core.registry import Registry
from fleetrl.hardware.teleop.base import Teleoperator

TELEOP = Registry("teleop", {
    "keyboard": "fleetrl.hardware.teleop.keyboard:KeyboardTeleop",
    "gamepad": "fleetrl.hardware.teleop.gamepad:GamepadTeleop",
    "spacemouse": "fleetrl.hardware.teleop.spacemouse:SpaceMouseTeleop",
})


def teleop_class(kind: str) -> type[Teleoperator]:
    """The class registered as `kind`; `ConfigError` listing the known kinds otherwise."""
    return TELEOP.get(kind)


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
