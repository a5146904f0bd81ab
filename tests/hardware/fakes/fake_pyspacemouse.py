"""A fake of the pyspacemouse 1.1 module-level API: `open()`, `read()`, `close()`, `list_devices()`.

Loaded as the module `pyspacemouse` by a test fixture, one fresh copy per test. As in
pyspacemouse 1.1: `open()` raises a bare `Exception` when no supported device is listed, returns
None when the HID device cannot be matched (`hid_mismatch = True`, or an unknown `device` name),
and otherwise returns the opened device, which `read()`s one queued HID report per call and
returns the state namedtuple (t, x, y, z, roll, pitch, yaw, buttons) with `t` renewed by each
report; the `buttons` list is one object updated in place, as the library does. Tests `plug()` a
device, `queue(...)` reports (only the fields given change, like the per-channel HID reports),
and `unplug()` it (later reads raise, like a lost HID device).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque, namedtuple

SpaceNavigator = namedtuple("SpaceNavigator", ["t", "x", "y", "z", "roll", "pitch", "yaw", "buttons"])
supported_devices = ["SpaceNavigator", "SpaceMouse Compact", "SpaceMouse Pro Wireless"]

hid_mismatch = False
plugged: list[DeviceSpec] = []
opened: list[DeviceSpec] = []
_active_device: DeviceSpec | None = None
_clock = itertools.count(1)


class ButtonState(list):
    def __int__(self) -> int:
        return sum(b << i for i, b in enumerate(reversed(self)))


class DeviceSpec:
    def __init__(self, name: str, n_buttons: int) -> None:
        self.name = name
        self.device: object | None = None
        self.dict_state = {"t": -1, "x": 0, "y": 0, "z": 0, "roll": 0, "pitch": 0, "yaw": 0, "buttons": ButtonState([0] * n_buttons)}
        self.tuple_state = SpaceNavigator(**self.dict_state)
        self.reads = 0
        self.unplugged = False
        self._reports: deque[dict] = deque()
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self.device is not None

    @property
    def state(self):
        return self.read()

    def open(self) -> None:
        self.device = object()

    def close(self) -> None:
        if self.connected:
            self.device = None

    def read(self):
        if not self.connected:
            return None
        if self.unplugged:
            raise Exception("HID read failed")  # easyhid's HIDException is a plain Exception subclass
        with self._lock:
            self.reads += 1
            report = self._reports.popleft() if self._reports else None
        if report is not None:
            for key, value in report.items():
                if key == "buttons":
                    self.dict_state["buttons"][:] = value
                else:
                    self.dict_state[key] = value
            self.dict_state["t"] = next(_clock) * 0.001
            self.tuple_state = SpaceNavigator(**self.dict_state)
        return self.tuple_state

    # Test helpers, not pyspacemouse API.

    def queue(self, **fields) -> None:
        """Queue one HID report changing `fields` (x, y, z, roll, pitch, yaw or buttons)."""
        with self._lock:
            self._reports.append(fields)

    def pending(self) -> int:
        with self._lock:
            return len(self._reports)


def plug(name: str = "SpaceMouse Compact", n_buttons: int = 2) -> DeviceSpec:
    device = DeviceSpec(name, n_buttons)
    plugged.append(device)
    return device


def unplug(device: DeviceSpec) -> None:
    device.unplugged = True


def list_devices() -> list[str]:
    return [device.name for device in plugged]


def open(  # noqa: A001 - pyspacemouse's own name
    callback=None,
    dof_callback=None,
    dof_callback_arr=None,
    button_callback=None,
    button_callback_arr=None,
    set_nonblocking_loop=True,
    device=None,
    path=None,
    DeviceNumber=0,  # noqa: N803 - pyspacemouse's own name
):
    global _active_device
    if device is None:
        if not plugged:
            raise Exception("No found any connected or supported devices.")
        device = plugged[0].name
    matches = [d for d in plugged if d.name == device]
    if hid_mismatch or not matches:
        return None
    found = matches[DeviceNumber if DeviceNumber < len(matches) else 0]
    found.open()
    opened.append(found)
    _active_device = found
    return found


def read():
    return _active_device.read() if _active_device is not None else None


def close() -> None:
    if _active_device is not None:
        _active_device.close()
