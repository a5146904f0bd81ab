"""A gamepad as a teleoperation device, through pygame's joystick module (an optional dependency).

Default controls (`GamepadControls`), numbered as SDL reports an Xbox-style pad on Linux; other
pads and drivers number axes and buttons differently, so check them (see the report of
`python -m pygame.examples.joystick`) and override the fields:

    left stick   up / down -> +x / -x      left / right -> +y / -y
    right stick  up / down -> +z / -z      left / right -> +yaw / -yaw
    d-pad        right / left -> +roll / -roll     up / down -> +pitch / -pitch
    RB (button 5)    engage, held (`engage_mode="hold"`; "toggle" flips on each press)
    A (button 0)     gripper toggle (starts open)
    Y (button 3)     "success"     B (button 1) "failure"     Start (button 7) "end_episode"

Motion fields name a source: "axisN" (a stick axis, -1..1; SDL reports up as negative, hence
"-axis1" for +x), "hatNx" / "hatNy" (a d-pad, -1, 0 or 1, up positive), with a leading "-" to
invert, or None. Button fields name "buttonN", or "axisN" for an analog trigger (pressed above
0.5), or None. Stick axes pass a dead zone, rescaled so motion starts from 0 at its edge, then
`scale` (translation) or `rotation_scale`, then are clipped to [-1, 1].

All pygame calls run on one polling thread, since SDL's events must be pumped from the thread
that initialised video; pygame is imported in `connect()` after checking for a display. Untested
with a real gamepad: written against pygame 2.6's documented joystick and event API and
exercised against a fake of it.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
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
    require_display,
)
from fleetrl.hardware.teleop.polled import PolledTeleoperator

_AXES = ("x", "y", "z", "roll", "pitch", "yaw")
_ROLES = ("engage", "gripper", "success", "failure", "end_episode")
_MOTION_SPEC = re.compile(r"(-?)(axis(\d+)|hat(\d+)([xy]))")
_BUTTON_SPEC = re.compile(r"(button|axis)(\d+)")
_TRIGGER_PRESSED = 0.5  # an analog trigger counts as pressed past this reading


@dataclass(frozen=True)
class GamepadControls:
    """Which stick, d-pad or button does what (see the module docstring for the syntax)."""

    x: str | None = "-axis1"
    y: str | None = "-axis0"
    z: str | None = "-axis4"
    roll: str | None = "hat0x"
    pitch: str | None = "hat0y"
    yaw: str | None = "-axis3"
    engage: str = "button5"
    gripper: str | None = "button0"
    success: str | None = "button3"
    failure: str | None = "button1"
    end_episode: str | None = "button7"


@dataclass(frozen=True)
class _Motion:
    kind: str  # "axis" or "hat"
    index: int
    component: int  # of a hat: 0 for x, 1 for y
    sign: float


@dataclass(frozen=True)
class _Button:
    kind: str  # "button" or "axis"
    index: int


def _parse_motion(name: str, spec: str | None) -> _Motion | None:
    if spec is None:
        return None
    match = _MOTION_SPEC.fullmatch(str(spec))
    if match is None:
        raise ConfigError(f"gamepad.controls.{name}: {spec!r} is not 'axisN', 'hatNx' or 'hatNy' (optionally '-'), or null")
    sign = -1.0 if match.group(1) else 1.0
    if match.group(3) is not None:
        return _Motion("axis", int(match.group(3)), 0, sign)
    return _Motion("hat", int(match.group(4)), 0 if match.group(5) == "x" else 1, sign)


def _parse_button(name: str, spec: str | None) -> _Button | None:
    if spec is None:
        return None
    match = _BUTTON_SPEC.fullmatch(str(spec))
    if match is None:
        raise ConfigError(f"gamepad.controls.{name}: {spec!r} is not 'buttonN' or 'axisN', or null")
    return _Button(match.group(1), int(match.group(2)))


class GamepadTeleop(PolledTeleoperator):
    """Gamepad teleoperation; a thread polls the pad at `poll_hz` and `read` returns the newest command.

    `dead_zone` [0, 1) applies to stick axes; `scale` and `rotation_scale` (> 0) multiply
    translation and rotation before clipping; `joystick_index` picks among several pads.
    A button held while connecting does not count until it is released and pressed again.
    """

    name = "gamepad"

    def __init__(
        self,
        controls: GamepadControls | dict[str, Any] | None = None,
        dead_zone: float = 0.1,
        scale: float = 1.0,
        rotation_scale: float = 1.0,
        engage_mode: str = "hold",
        joystick_index: int = 0,
        poll_hz: float = 100.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.controls = coerce_map(GamepadControls, controls, "gamepad.controls")
        fields = asdict(self.controls)
        self._motion = [_parse_motion(axis, fields[axis]) for axis in _AXES]
        self._buttons = [_parse_button(role, fields[role]) for role in _ROLES]
        if self._buttons[0] is None:
            raise ConfigError("gamepad.controls.engage: required (a takeover button)")
        used = [(b, role) for b, role in zip(self._buttons, _ROLES) if b is not None]
        for i, (button, role) in enumerate(used):
            for other, other_role in used[:i]:
                if button == other:
                    raise ConfigError(f"gamepad.controls.{role}: {fields[role]!r} is already bound to {other_role}")
        self.dead_zone = check_range("gamepad", "dead_zone", dead_zone, 0.0, 1.0, high_open=True)
        self.scale = check_range("gamepad", "scale", scale, 1e-6, 100.0)
        self.rotation_scale = check_range("gamepad", "rotation_scale", rotation_scale, 1e-6, 100.0)
        self.engage_mode = check_engage_mode("gamepad", engage_mode)
        self.joystick_index = int(joystick_index)
        self.poll_hz = check_range("gamepad", "poll_hz", poll_hz, 1.0, 1000.0)
        self.connect_timeout_s = connect_timeout_s
        self._init_polling()
        self._pg: ModuleType | None = None
        self._joystick: Any = None
        self._instance_id: Any = None
        self._before: tuple[bool, ...] = ()

    def _open_library(self) -> None:
        require_display("gamepad", "pygame")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # keeps pygame's banner out of logs
        self._pg = import_library("gamepad", "pygame")
        # SDL drops joystick input while none of the process's windows has focus, and this
        # process has no window: without the hint the pad would read as idle.
        os.environ.setdefault("SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS", "1")

    # Everything below runs on the polling thread.

    def _setup(self) -> None:
        pg = self._pg
        assert pg is not None
        try:
            pg.display.init()
            pg.joystick.init()
            count = pg.joystick.get_count()
            if count == 0:
                raise TeleopUnavailable("gamepad: no joystick or gamepad found (pygame.joystick.get_count() is 0)")
            if not 0 <= self.joystick_index < count:
                raise TeleopUnavailable(f"gamepad: joystick_index is {self.joystick_index} but {count} pad(s) found")
            joystick = pg.joystick.Joystick(self.joystick_index)
            self._check_controls(joystick)
        except TeleopUnavailable:
            self._teardown()
            raise
        except pg.error as err:
            self._teardown()
            raise TeleopUnavailable(f"gamepad: pygame could not open the joystick: {err}") from err
        self._joystick = joystick
        self._instance_id = joystick.get_instance_id()
        pg.event.get()  # drop what queued up while opening
        self._before = self._button_states()

    def _check_controls(self, joystick: Any) -> None:
        have = {"axis": joystick.get_numaxes(), "hat": joystick.get_numhats(), "button": joystick.get_numbuttons()}
        wanted = [(m.kind, m.index, axis) for m, axis in zip(self._motion, _AXES) if m is not None]
        wanted += [(b.kind, b.index, role) for b, role in zip(self._buttons, _ROLES) if b is not None]
        for kind, index, field_name in wanted:
            if index >= have[kind]:
                raise TeleopUnavailable(
                    f"gamepad: {joystick.get_name()!r} has {have[kind]} {kind}(s) but controls.{field_name} "
                    f"uses {kind} {index}; set GamepadControls for this pad"
                )

    def _step(self) -> None:
        pg = self._pg
        assert pg is not None
        # event.get() pumps SDL (which refreshes the joystick state read below) and empties the
        # queue, so it cannot fill up; only an unplug matters here.
        for event in pg.event.get():
            if event.type == pg.JOYDEVICEREMOVED and getattr(event, "instance_id", None) == self._instance_id:
                raise TeleopUnavailable("gamepad: the pad was unplugged")
        motion = [self._motion_value(source, i) for i, source in enumerate(self._motion)]
        self._state.set_motion(motion)
        now = self._button_states()
        apply_buttons(self._state, _ROLES, self._before, now)
        self._before = now

    def _motion_value(self, source: _Motion | None, axis_index: int) -> float:
        if source is None:
            return 0.0
        if source.kind == "axis":
            value = dead_zone(float(self._joystick.get_axis(source.index)), self.dead_zone)
        else:
            value = float(self._joystick.get_hat(source.index)[source.component])
        gain = self.scale if axis_index < 3 else self.rotation_scale
        return source.sign * gain * value

    def _button_states(self) -> tuple[bool, ...]:
        states = []
        for button in self._buttons:
            if button is None:
                states.append(False)
            elif button.kind == "button":
                states.append(bool(self._joystick.get_button(button.index)))
            else:
                states.append(float(self._joystick.get_axis(button.index)) > _TRIGGER_PRESSED)
        return tuple(states)

    def _teardown(self) -> None:
        pg = self._pg
        assert pg is not None
        self._joystick = None
        pg.joystick.quit()
        pg.display.quit()
