"""The keyboard as a teleoperation device, through pynput (an optional dependency).

Default key map (`KeyMap`; every field can be overridden, see below):

    w / s      +x / -x           i / k      +pitch / -pitch
    a / d      +y / -y           l / j      +roll / -roll
    r / f      +z / -z           u / o      +yaw / -yaw
    space      engage (toggle: press to take over, press again to release)
    g          gripper (toggle open / closed; starts open)
    enter      "success"         backspace  "failure"         esc   "end_episode"

A held motion key commands `speed` (default 1.0) on its axis; opposite keys held together cancel.
Key names are a single character (matched without regard to case or Shift) or the name of a
pynput `Key` member ("space", "enter", "up", "shift_r", "f1", ...). With `engage_mode="hold"`
the engage key is a dead-man switch instead (a modifier such as "shift_r" suits that best).
Auto-repeat presses of a key already down are ignored, so toggles and events fire once per press.

pynput listens globally: keys typed into any window count, so an operator should disengage
before typing elsewhere. pynput is imported in `connect()`, after checking for a display (its
X backend connects to the display at import). Untested with a real keyboard: written against
pynput 1.8's documented Listener API and exercised against a fake of it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

from fleetrl.core.errors import ConfigError
from fleetrl.hardware.teleop.base import TeleopCommand, Teleoperator, TeleopUnavailable
from fleetrl.hardware.teleop.common import (
    CommandState,
    check_engage_mode,
    check_range,
    coerce_map,
    import_library,
    require_display,
)

log = logging.getLogger(__name__)

_AXES = ("x", "y", "z", "roll", "pitch", "yaw")
_EVENTS = ("success", "failure", "end_episode")


@dataclass(frozen=True)
class KeyMap:
    """Which key does what: a single character, or the name of a pynput `Key` member."""

    x_plus: str = "w"
    x_minus: str = "s"
    y_plus: str = "a"
    y_minus: str = "d"
    z_plus: str = "r"
    z_minus: str = "f"
    roll_plus: str = "l"
    roll_minus: str = "j"
    pitch_plus: str = "i"
    pitch_minus: str = "k"
    yaw_plus: str = "u"
    yaw_minus: str = "o"
    engage: str = "space"  # takeover key: toggled or held, per `engage_mode`
    gripper: str = "g"  # each press flips the gripper between open and closed
    success: str = "enter"
    failure: str = "backspace"
    end_episode: str = "esc"

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for field_name, key in asdict(self).items():
            if not isinstance(key, str) or not key or (len(key) > 1 and not key.isidentifier()):
                raise ConfigError(f"keyboard.keys.{field_name}: {key!r} is not a character or a pynput Key name")
            token = key.lower() if len(key) == 1 else key
            if token in seen:
                raise ConfigError(f"keyboard.keys.{field_name}: {key!r} is already bound to {seen[token]}")
            seen[token] = field_name


class KeyboardTeleop(Teleoperator):
    """Keyboard teleoperation; `read` returns what the keys held and pressed so far command.

    `speed` (0, 1] is the magnitude a held motion key commands; `engage_mode` is "toggle"
    (default) or "hold"; `connect_timeout_s` bounds the wait for pynput's listener to start.
    """

    name = "keyboard"

    def __init__(
        self,
        keys: KeyMap | dict[str, Any] | None = None,
        speed: float = 1.0,
        engage_mode: str = "toggle",
        connect_timeout_s: float = 2.0,
    ) -> None:
        self.keys = coerce_map(KeyMap, keys, "keyboard.keys")
        self.speed = check_range("keyboard", "speed", speed, 0.0, 1.0)
        if self.speed == 0.0:
            raise ConfigError("keyboard.speed: must be greater than 0")
        self.engage_mode = check_engage_mode("keyboard", engage_mode)
        self.connect_timeout_s = connect_timeout_s
        self._state = CommandState(self.engage_mode)
        self._listener: Any = None
        self._kb: ModuleType | None = None
        self._bindings: dict[str, str] = {}  # token -> KeyMap field name
        self._vk_names: dict[Any, str] = {}  # virtual key code of a bound Key member -> its name
        self._down: set[str] = set()  # tokens held now; touched only by the listener thread

    def connect(self) -> None:
        if self._listener is not None:
            return
        require_display("keyboard", "pynput")
        keyboard = import_library("keyboard", "pynput.keyboard")
        self._kb = keyboard
        self._bind(keyboard)
        self._state = CommandState(self.engage_mode)
        self._down = set()
        listener = keyboard.Listener(on_press=self._on_press, on_release=self._on_release)
        listener.start()
        # Listener.wait() blocks until pynput's backend is ready and forever if it never is, so
        # it waits on a helper thread and connect() gives up after the deadline.
        waiter = threading.Thread(target=listener.wait, name="keyboard-listener-wait", daemon=True)
        waiter.start()
        deadline = time.monotonic() + self.connect_timeout_s
        while waiter.is_alive() and listener.is_alive() and time.monotonic() < deadline:
            waiter.join(0.01)
        if waiter.is_alive() or not listener.is_alive():
            listener.stop()
            why = "stopped while starting" if not listener.is_alive() else f"did not start within {self.connect_timeout_s:g} s"
            raise TeleopUnavailable(
                f"keyboard: pynput's listener {why} (under Wayland it sees only X applications; "
                "try an X session, or PYNPUT_BACKEND=uinput as root)"
            )
        self._listener = listener

    def read(self) -> TeleopCommand:
        listener = self._listener
        if listener is not None and not listener.is_alive():
            # The listener ended on its own (its backend failed): never repeat a stale command.
            log.error("keyboard: pynput's listener stopped; releasing control")
            self._listener = None
            self._state.release_all()
        return self._state.snapshot()

    def disconnect(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()  # pynput: no callback runs after stop() returns
        if listener is not threading.current_thread():
            listener.join(2.0)
        self._state.release_all()

    def _bind(self, keyboard: ModuleType) -> None:
        self._bindings, self._vk_names = {}, {}
        for field_name, key in asdict(self.keys).items():
            if len(key) == 1:
                self._bindings[key.lower()] = field_name
                continue
            member = getattr(keyboard.Key, key, None)
            if not isinstance(member, keyboard.Key):
                raise ConfigError(f"keyboard.keys.{field_name}: {key!r} is not a pynput Key name")
            self._bindings[key] = field_name
            vk = getattr(member.value, "vk", None)
            if vk is not None:
                self._vk_names[vk] = key

    def _token(self, key: Any) -> str | None:
        """The binding token of a pynput key: a Key's name, else a lower-case character."""
        assert self._kb is not None
        if isinstance(key, self._kb.Key):
            return key.name
        if key is None:  # pynput: an unknown key
            return None
        vk = getattr(key, "vk", None)
        if vk is not None and vk in self._vk_names:  # a backend may report a named key as a KeyCode
            return self._vk_names[vk]
        char = getattr(key, "char", None)
        return char.lower() if char else None

    def _on_press(self, key: Any, injected: bool = False) -> None:
        token = self._token(key)
        if token is None or token in self._down:
            return  # unknown, or auto-repeat of a key already held
        self._down.add(token)
        action = self._bindings.get(token)
        if action == "engage":
            self._state.engage_button(True)
        elif action == "gripper":
            self._state.toggle_gripper()
        elif action in _EVENTS:
            self._state.add_event(action)
        else:
            self._update_motion()

    def _on_release(self, key: Any, injected: bool = False) -> None:
        token = self._token(key)
        if token is None or token not in self._down:
            return
        self._down.discard(token)
        if self._bindings.get(token) == "engage":
            self._state.engage_button(False)
        else:
            self._update_motion()

    def _update_motion(self) -> None:
        held = {self._bindings[t] for t in self._down if t in self._bindings}
        motion = [
            self.speed * ((f"{axis}_plus" in held) - (f"{axis}_minus" in held)) for axis in _AXES
        ]
        self._state.set_motion(motion)
