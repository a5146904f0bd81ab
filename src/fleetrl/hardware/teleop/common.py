"""What the keyboard, gamepad and SpaceMouse drivers share: lazy imports, the display check,
axis shaping, the thread-safe command state and the polling thread.

A driver's device thread (a pynput listener, or a `DevicePoller`) writes into a `CommandState`;
`Teleoperator.read` takes a `snapshot()` of it, which never waits for the device.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from fleetrl.core.errors import ConfigError
from fleetrl.hardware.teleop.base import COMMAND_DIM, TeleopCommand, TeleopUnavailable

log = logging.getLogger(__name__)

INSTALL = "pip install 'fleetrl[teleop]'"
ENGAGE_MODES = ("hold", "toggle")
MapT = TypeVar("MapT")


def require_display(device: str, library: str) -> None:
    """`TeleopUnavailable` on Linux without an X or Wayland session.

    Checked before the library is imported: pynput's X backend opens the display at import time
    and may fail or hang without one, and SDL (under pygame) cannot pump input events without a
    video system.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise TeleopUnavailable(
            f"{device}: no display (neither DISPLAY nor WAYLAND_DISPLAY is set); {library} needs a "
            "graphical session on this machine (run it on the operator's desktop, not over plain ssh)"
        )


def import_library(device: str, module: str, system_hint: str = "") -> ModuleType:
    """Import `module` for `device`; `TeleopUnavailable` saying why when that fails.

    A missing package names the pip command. A package that is installed but cannot load (a
    missing system library, a backend that cannot start) is reported with the library's own error
    and `system_hint`, since reinstalling it would not help.
    """
    package = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and err.name.partition(".")[0] == package:
            raise TeleopUnavailable(f"{device}: {package} is not installed: {INSTALL}") from err
        cause = err
    except (ImportError, OSError) as err:
        cause = err
    hint = f" ({system_hint})" if system_hint else ""
    raise TeleopUnavailable(f"{device}: {package} is installed but cannot load: {cause}{hint}") from cause


def check_engage_mode(device: str, mode: str) -> str:
    """`mode` if it is "hold" or "toggle"; `ConfigError` naming the option otherwise."""
    if mode not in ENGAGE_MODES:
        raise ConfigError(f"{device}.engage_mode: {mode!r} is not one of {', '.join(ENGAGE_MODES)}")
    return mode


def check_range(device: str, option: str, value: float, low: float, high: float, *, high_open: bool = False) -> float:
    """`value` if low <= value <= high (or < high); `ConfigError` naming the option otherwise."""
    value = float(value)
    if not (low <= value and (value < high if high_open else value <= high)):
        bracket = ")" if high_open else "]"
        raise ConfigError(f"{device}.{option}: {value} is outside [{low}, {high}{bracket}")
    return value


def coerce_map(cls: type[MapT], value: MapT | Mapping[str, Any] | None, where: str) -> MapT:
    """A map dataclass from itself, a mapping of overrides (as read from YAML), or None (defaults)."""
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a {cls.__name__} or a mapping, got {type(value).__name__}")
    assert is_dataclass(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown; known keys: {', '.join(sorted(known))}")
    return cls(**value)


def dead_zone(value: float, width: float) -> float:
    """0 inside (-width, width); outside, rescaled so the output rises from 0 at the edge to 1 at 1.

    The rescaling keeps the response continuous: a stick just past the dead zone moves the robot
    slowly instead of jumping to `width`.
    """
    magnitude = abs(value)
    if magnitude <= width:
        return 0.0
    return float(np.sign(value)) * (magnitude - width) / (1.0 - width)


def button_edges(before: Sequence[bool], now: Sequence[bool]) -> tuple[set[int], set[int]]:
    """(indices that went down, indices that went up) between two polls of the same buttons."""
    pressed = {i for i, (a, b) in enumerate(zip(before, now)) if b and not a}
    released = {i for i, (a, b) in enumerate(zip(before, now)) if a and not b}
    return pressed, released


def apply_buttons(state: CommandState, roles: Sequence[str], before: Sequence[bool], now: Sequence[bool]) -> None:
    """Turn button changes into commands; `roles[i]` is "engage", "gripper" or an event word."""
    pressed, released = button_edges(before, now)
    for i in sorted(pressed):
        if roles[i] == "engage":
            state.engage_button(True)
        elif roles[i] == "gripper":
            state.toggle_gripper()
        else:
            state.add_event(roles[i])
    if any(roles[i] == "engage" for i in released):
        state.engage_button(False)


class CommandState:
    """The newest command of one device, written by its device thread, read by anyone.

    Motion is the first six action components, already scaled and clipped by the driver; the
    gripper component is -1 (open) until toggled. Events accumulate until the next `snapshot`,
    which hands them out exactly once. Engage follows `engage_mode`: "hold" engages while the
    button is down, "toggle" flips on each press; every change adds "takeover" or "release".
    """

    def __init__(self, engage_mode: str) -> None:
        self._mode = engage_mode
        self._lock = threading.Lock()
        self._motion = np.zeros(COMMAND_DIM - 1, np.float32)
        self._gripper_closed = False
        self._engaged = False
        self._events: set[str] = set()

    def set_motion(self, values: Iterable[float]) -> None:
        clipped = np.clip(np.asarray(list(values), np.float32), -1.0, 1.0)
        with self._lock:
            self._motion[:] = clipped

    def engage_button(self, down: bool) -> None:
        """The engage button went down (True) or up (False)."""
        with self._lock:
            if self._mode == "hold":
                self._set_engaged(down)
            elif down:
                self._set_engaged(not self._engaged)

    def toggle_gripper(self) -> None:
        with self._lock:
            self._gripper_closed = not self._gripper_closed

    def add_event(self, word: str) -> None:
        with self._lock:
            self._events.add(word)

    def release_all(self) -> None:
        """Disengage and stop moving (the device is gone or closing); "release" if it was engaged."""
        with self._lock:
            self._motion[:] = 0.0
            self._set_engaged(False)

    def snapshot(self) -> TeleopCommand:
        with self._lock:
            action = np.append(self._motion, 1.0 if self._gripper_closed else -1.0).astype(np.float32)
            events, self._events = frozenset(self._events), set()
            return TeleopCommand(action=action, engaged=self._engaged, events=events)

    def _set_engaged(self, engaged: bool) -> None:  # caller holds the lock
        if engaged != self._engaged:
            self._engaged = engaged
            self._events.add("takeover" if engaged else "release")


class DevicePoller:
    """One daemon thread that owns a polled device: `setup()`, then `step()` every 1/hz s, then
    `teardown()`.

    Everything runs on that thread because some libraries (SDL under pygame) must be pumped from
    the thread that initialised them. `start` returns once `setup` has finished and re-raises
    what it raised; a `step` that raises ends the loop and is passed to `on_failure` (after
    `teardown`), so the driver can disengage instead of repeating a stale command.
    """

    def __init__(
        self,
        name: str,
        setup: Callable[[], None],
        step: Callable[[], None],
        teardown: Callable[[], None],
        hz: float,
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self._setup, self._step, self._teardown = setup, step, teardown
        self._period = 1.0 / hz
        self._on_failure = on_failure
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._setup_error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self, timeout_s: float) -> None:
        """Run setup on the thread; its exception here, or `TeleopUnavailable` after `timeout_s`."""
        self.thread.start()
        if not self._ready.wait(timeout_s):
            self._stop.set()
            raise TeleopUnavailable(f"{self.thread.name}: the device did not open within {timeout_s:g} s")
        if self._setup_error is not None:
            self.thread.join(timeout_s)
            raise self._setup_error

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask the loop to end and wait up to `timeout_s` for teardown (idempotent)."""
        self._stop.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout_s)
            if self.thread.is_alive():
                log.warning("%s did not stop within %.1f s", self.thread.name, timeout_s)

    def _run(self) -> None:
        try:
            self._setup()
        except BaseException as err:  # handed to start(), which raises it in the caller's thread
            self._setup_error = err
            self._ready.set()
            return
        self._ready.set()
        failure: BaseException | None = None
        try:
            while not self._stop.is_set():
                self._step()
                self._stop.wait(self._period)
        except Exception as err:  # the device failed mid-run: reported below, not raised into nowhere
            failure = err
        finally:
            try:
                self._teardown()
            except Exception:
                log.exception("%s: closing the device failed", self.thread.name)
        if failure is not None:
            log.error("%s stopped: %s", self.thread.name, failure)
            self._on_failure(failure)
