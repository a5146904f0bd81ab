"""A fake of the part of pygame (2.6) that fleetrl's gamepad driver calls.

Loaded as the module `pygame` by a test fixture, one fresh copy per test. `display`, `joystick`
and `event` stand for the submodules of the same names, with their documented functions; as in
pygame, `event.get()` raises `pygame.error` until the video system (`display.init()`) is up,
and a `joystick.Joystick` raises `pygame.error` for an axis, button or hat it does not have.
Tests plug pads in with `plug(...)`, set `pad.axes`, `pad.buttons` and `pad.hats` (a pad's
readings) and `unplug(pad)` (queues JOYDEVICEREMOVED). `video_available = False` makes
`display.init()` fail as SDL does without a display. Every call is appended to `calls` as
(name, thread name), so tests can check which thread talked to SDL.
"""

from __future__ import annotations

import threading

JOYDEVICEADDED = 0x605
JOYDEVICEREMOVED = 0x606

video_available = True
calls: list[tuple[str, str]] = []
pads: list[Pad] = []
_queue: list[Event] = []
_lock = threading.Lock()
_init = {"display": False, "joystick": False}
_next_instance_id = [0]


class error(RuntimeError):  # noqa: N801 - pygame's own name
    pass


def _record(name: str) -> None:
    calls.append((name, threading.current_thread().name))


class Pad:
    """One plugged-in pad: tests set its readings directly."""

    def __init__(self, name: str, axes: list[float], buttons: list[int], hats: list[tuple[int, int]], instance_id: int) -> None:
        self.name = name
        self.axes = axes
        self.buttons = buttons
        self.hats = hats
        self.instance_id = instance_id


class Event:
    def __init__(self, type: int, **attributes) -> None:  # noqa: A002 - pygame's own name
        self.type = type
        self.__dict__.update(attributes)


def plug(name: str = "Xbox 360 Controller", n_axes: int = 6, n_buttons: int = 11, n_hats: int = 1) -> Pad:
    pad = Pad(name, [0.0] * n_axes, [0] * n_buttons, [(0, 0)] * n_hats, _next_instance_id[0])
    _next_instance_id[0] += 1
    with _lock:
        pads.append(pad)
        _queue.append(Event(JOYDEVICEADDED, device_index=len(pads) - 1))
    return pad


def unplug(pad: Pad) -> None:
    with _lock:
        pads.remove(pad)
        _queue.append(Event(JOYDEVICEREMOVED, instance_id=pad.instance_id))


class _Display:
    def init(self) -> None:
        _record("display.init")
        if not video_available:
            raise error("No available video device")
        _init["display"] = True

    def quit(self) -> None:
        _record("display.quit")
        _init["display"] = False

    def get_init(self) -> bool:
        return _init["display"]


class _EventModule:
    Event = Event

    def pump(self) -> None:
        _record("event.pump")
        if not _init["display"]:
            raise error("video system not initialized")

    def get(self) -> list[Event]:
        _record("event.get")
        if not _init["display"]:
            raise error("video system not initialized")
        with _lock:
            events = list(_queue)
            _queue.clear()
        return events


class Joystick:
    def __init__(self, id: int) -> None:  # noqa: A002 - pygame's own name
        _record("joystick.Joystick")
        if not _init["joystick"]:
            raise error("joystick system not initialized")
        if not 0 <= id < len(pads):
            raise error("Invalid joystick device number")
        self._pad = pads[id]

    def init(self) -> None:
        pass

    def quit(self) -> None:
        pass

    def get_instance_id(self) -> int:
        return self._pad.instance_id

    def get_name(self) -> str:
        return self._pad.name

    def get_numaxes(self) -> int:
        return len(self._pad.axes)

    def get_numbuttons(self) -> int:
        return len(self._pad.buttons)

    def get_numhats(self) -> int:
        return len(self._pad.hats)

    def get_axis(self, axis_number: int) -> float:
        _record("Joystick.get_axis")
        if not 0 <= axis_number < len(self._pad.axes):
            raise error("Invalid joystick axis")
        return float(self._pad.axes[axis_number])

    def get_button(self, button: int) -> bool:
        _record("Joystick.get_button")
        if not 0 <= button < len(self._pad.buttons):
            raise error("Invalid joystick button")
        return bool(self._pad.buttons[button])

    def get_hat(self, hat_number: int) -> tuple[int, int]:
        _record("Joystick.get_hat")
        if not 0 <= hat_number < len(self._pad.hats):
            raise error("Invalid joystick hat")
        return tuple(self._pad.hats[hat_number])


class _JoystickModule:
    Joystick = Joystick

    def init(self) -> None:
        _record("joystick.init")
        _init["joystick"] = True

    def quit(self) -> None:
        _record("joystick.quit")
        _init["joystick"] = False

    def get_init(self) -> bool:
        return _init["joystick"]

    def get_count(self) -> int:
        _record("joystick.get_count")
        if not _init["joystick"]:
            raise error("joystick system not initialized")
        return len(pads)


display = _Display()
event = _EventModule()
joystick = _JoystickModule()


def init() -> tuple[int, int]:
    display.init()
    joystick.init()
    return 2, 0


def quit() -> None:  # noqa: A001 - pygame's own name
    joystick.quit()
    display.quit()
