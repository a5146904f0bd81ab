"""A 3Dconnexion SpaceMouse as a teleoperation device, through pyspacemouse (an optional dependency).

Default controls (`SpaceMouseControls`):

    puck push / tilt / twist   x, y, z, roll, pitch, yaw as pyspacemouse reports them
    button 0 (left)            engage while held (`engage_mode="hold"`; "toggle" flips per press)
    button 1 (right)           gripper toggle (starts open)
    success / failure / end_episode   unbound (a SpaceMouse Compact has two buttons; bind
                                      spare buttons of larger models by index)

`axes` lists, for the command's x, y, z, roll, pitch, yaw in turn, the state field it comes from,
with a leading "-" to invert: ("-y", "x", "z", "-pitch", "roll", "yaw") turns the puck a quarter
turn, for an operator who faces the robot from its side. Each value passes a dead zone (rescaled
so motion starts from 0 at its edge), then `scale` (translation) or `rotation_scale`, then is
clipped to [-1, 1] (raw readings can exceed 1 on some models).

pyspacemouse reads one HID report per `read()` and keeps the rest queued, so a thread drains the
device at `poll_hz`; `read` here returns the newest command without touching the device.
pyspacemouse is imported in `connect()`; on Linux it needs the hidapi system library and read
access to /dev/hidraw*. Untested with a real SpaceMouse: written against the documented
pyspacemouse 1.1 API (`open()` returning the device or None, `read()` returning a state with
t, x, y, z, roll, pitch, yaw and `buttons`) and exercised against a fake of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from fleetrl.core.errors import ConfigError
from fleetrl.hardware.teleop.base import TeleopUnavailable
from fleetrl.hardware.teleop.common import (
    apply_buttons,
    check_engage_mode,
    check_range,
    coerce_map,
    dead_zone,
    import_library,
)
from fleetrl.hardware.teleop.polled import PolledTeleoperator

_STATE_AXES = ("x", "y", "z", "roll", "pitch", "yaw")
_ROLES = ("engage", "gripper", "success", "failure", "end_episode")
_MAX_REPORTS_PER_POLL = 64  # bounds one drain even if the device floods reports
_HIDAPI_HINT = "on Linux: sudo apt-get install libhidapi-dev"


@dataclass(frozen=True)
class SpaceMouseControls:
    """Which puck axis drives which command axis, and which button (by index) does what."""

    axes: tuple[str, ...] = _STATE_AXES
    engage: int = 0
    gripper: int | None = 1
    success: int | None = None
    failure: int | None = None
    end_episode: int | None = None

    def __post_init__(self) -> None:
        axes = tuple(self.axes)
        object.__setattr__(self, "axes", axes)  # YAML gives a list
        if len(axes) != len(_STATE_AXES) or any(a.lstrip("-") not in _STATE_AXES for a in axes):
            raise ConfigError(
                f"spacemouse.controls.axes: {list(axes)!r} must name 6 of {', '.join(_STATE_AXES)}, each optionally '-'"
            )
        buttons = [(getattr(self, role), role) for role in _ROLES if getattr(self, role) is not None]
        for i, (button, role) in enumerate(buttons):
            if not isinstance(button, int) or button < 0:
                raise ConfigError(f"spacemouse.controls.{role}: {button!r} is not a button index")
            for other, other_role in buttons[:i]:
                if button == other:
                    raise ConfigError(f"spacemouse.controls.{role}: button {button} is already bound to {other_role}")


class SpaceMouseTeleop(PolledTeleoperator):
    """SpaceMouse teleoperation; a thread drains the device and `read` returns the newest command.

    `dead_zone` [0, 1) removes puck drift at rest; `scale` and `rotation_scale` (> 0) multiply
    translation and rotation before clipping; `device` names the model to open (one of
    pyspacemouse's supported device names) or None for the first found. A button held while
    connecting does not count until it is released and pressed again.
    """

    name = "spacemouse"

    def __init__(
        self,
        controls: SpaceMouseControls | dict[str, Any] | None = None,
        dead_zone: float = 0.05,
        scale: float = 1.0,
        rotation_scale: float = 1.0,
        engage_mode: str = "hold",
        device: str | None = None,
        poll_hz: float = 200.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.controls = coerce_map(SpaceMouseControls, controls, "spacemouse.controls")
        self.dead_zone = check_range("spacemouse", "dead_zone", dead_zone, 0.0, 1.0, high_open=True)
        self.scale = check_range("spacemouse", "scale", scale, 1e-6, 100.0)
        self.rotation_scale = check_range("spacemouse", "rotation_scale", rotation_scale, 1e-6, 100.0)
        self.engage_mode = check_engage_mode("spacemouse", engage_mode)
        self.device = device
        self.poll_hz = check_range("spacemouse", "poll_hz", poll_hz, 1.0, 2000.0)
        self.connect_timeout_s = connect_timeout_s
        self._sources = [(a.lstrip("-"), -1.0 if a.startswith("-") else 1.0) for a in self.controls.axes]
        self._button_index = [getattr(self.controls, role) for role in _ROLES]
        self._init_polling()
        self._psm: ModuleType | None = None
        self._device: Any = None
        self._last_t: Any = None
        self._before: tuple[bool, ...] = ()

    def _open_library(self) -> None:
        self._psm = import_library("spacemouse", "pyspacemouse", system_hint=_HIDAPI_HINT)

    # Everything below runs on the polling thread.

    def _setup(self) -> None:
        psm = self._psm
        assert psm is not None
        try:
            device = psm.open(device=self.device)
        except Exception as err:  # pyspacemouse 1.x raises a bare Exception when it lists no device
            raise TeleopUnavailable(
                f"spacemouse: no SpaceMouse could be opened ({err}); check the USB connection and "
                "read access to /dev/hidraw* (a udev rule)"
            ) from err
        if not device:
            raise TeleopUnavailable("spacemouse: no SpaceMouse found (pyspacemouse.open() returned None)")
        self._device = device
        try:
            state = device.read()
            if state is None:
                raise TeleopUnavailable("spacemouse: the device closed while opening")
            n_buttons = len(state.buttons)
            for role, index in zip(_ROLES, self._button_index):
                if index is not None and index >= n_buttons:
                    raise TeleopUnavailable(
                        f"spacemouse: the device reports {n_buttons} button(s) but controls.{role} uses button {index}"
                    )
            self._last_t, self._before = state.t, self._button_states(state)
            self._drain(apply=False)  # reports queued before we opened; buttons held now need a fresh press
        except BaseException:
            self._teardown()
            raise

    def _drain(self, apply: bool = True) -> Any:
        """Read until the state stops changing (each read consumes one queued HID report) and
        return the newest state; buttons are compared report by report, so a press and release
        that both queued up between polls still count."""
        state = None
        for _ in range(_MAX_REPORTS_PER_POLL):
            state = self._device.read()
            if state is None:  # pyspacemouse: the device is not open
                raise TeleopUnavailable("spacemouse: the device closed")
            if state.t == self._last_t:
                break
            self._last_t = state.t
            now = self._button_states(state)
            if apply:
                apply_buttons(self._state, _ROLES, self._before, now)
            self._before = now
        return state

    def _step(self) -> None:
        state = self._drain()
        motion = []
        for i, (name, sign) in enumerate(self._sources):
            gain = self.scale if i < 3 else self.rotation_scale
            motion.append(sign * gain * dead_zone(float(getattr(state, name)), self.dead_zone))
        self._state.set_motion(motion)

    def _button_states(self, state: Any) -> tuple[bool, ...]:
        # A copy: pyspacemouse 1.x updates the same `buttons` list in place on every report.
        buttons = list(state.buttons)
        return tuple(index is not None and bool(buttons[index]) for index in self._button_index)

    def _teardown(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()
