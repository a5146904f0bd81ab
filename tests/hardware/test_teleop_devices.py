"""Keyboard, gamepad and SpaceMouse teleoperators against fakes of pynput, pygame and pyspacemouse.

Commands (signs, scaling, dead zone, clipping), engage by hold and by toggle, events reported
exactly once, the gripper toggle, the reasons a device is unavailable, and the device threads
starting and stopping.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType

import numpy as np
import pytest
from fakes import load_fake

from fleetrl.core.errors import ConfigError
from fleetrl.hardware.teleop.base import EVENTS, TeleopCommand, Teleoperator, TeleopUnavailable
from fleetrl.hardware.teleop.gamepad import GamepadTeleop
from fleetrl.hardware.teleop.keyboard import KeyboardTeleop, KeyMap
from fleetrl.hardware.teleop.registry import TELEOP, make_teleop
from fleetrl.hardware.teleop.spacemouse import SpaceMouseControls, SpaceMouseTeleop

PIP = "pip install 'fleetrl[teleop]'"
FAST_HZ = 1000.0  # polled devices step every millisecond, so tests settle quickly


def wait_until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


def events_of(commands: list[TeleopCommand]) -> list[str]:
    """Every event word of several reads, with repeats: a word reported twice appears twice."""
    return sorted(word for command in commands for word in command.events)


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    # Set, then removed by the drivers' setdefault or not: monkeypatch restores both afterwards.
    monkeypatch.setenv("SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS", "1")
    monkeypatch.setenv("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@pytest.fixture
def opened() -> Iterator[list[Teleoperator]]:
    """Devices a test connects; disconnected afterwards even if the test failed."""
    devices: list[Teleoperator] = []
    yield devices
    for device in devices:
        device.disconnect()


def connected(device: Teleoperator, opened: list[Teleoperator]) -> Teleoperator:
    device.connect()
    opened.append(device)
    return device


# ----------------------------------------------------------------------------------------------
# Keyboard (pynput)


@pytest.fixture
def kb(monkeypatch: pytest.MonkeyPatch, display) -> Iterator[ModuleType]:
    fake = load_fake("pynput.keyboard", "fake_pynput_keyboard.py")
    package = ModuleType("pynput")
    package.__path__ = []  # a package, as the real pynput is
    package.keyboard = fake
    monkeypatch.setitem(sys.modules, "pynput", package)
    monkeypatch.setitem(sys.modules, "pynput.keyboard", fake)
    yield fake
    fake.crash()  # no listener thread outlives its test


def test_keyboard_held_keys_command_signed_axes_at_speed_and_opposites_cancel(kb, opened):
    device = connected(KeyboardTeleop(speed=0.5), opened)
    assert np.array_equal(device.read().action, [0, 0, 0, 0, 0, 0, -1])  # idle, gripper open
    kb.press("w")
    kb.press("d")
    kb.press("l")
    kb.press("o")
    action = device.read().action
    assert action.dtype == np.float32 and action.shape == (7,)
    assert np.allclose(action, [0.5, -0.5, 0, 0.5, 0, -0.5, -1])
    kb.press("s")  # -x while +x is held: they cancel
    assert device.read().action[0] == 0.0
    kb.release("w")
    assert device.read().action[0] == -0.5
    for key in "sdlo":
        kb.release(key)
    kb.press("R")  # Shift held: the character arrives upper-case and still means +z
    assert np.allclose(device.read().action, [0, 0, 0.5, 0, 0, 0, -1])
    kb.release("R")
    assert not device.read().action[:6].any()


def test_keyboard_toggle_engage_reports_each_change_once_and_ignores_auto_repeat(kb, opened):
    device = connected(KeyboardTeleop(), opened)
    space = kb.Key.space
    kb.press(space)
    kb.press(space)  # auto-repeat: a second press without a release is not a second toggle
    first = device.read()
    assert first.engaged and first.events == {"takeover"}
    kb.release(space)
    second = device.read()
    assert second.engaged and second.events == frozenset()  # releasing a toggle key changes nothing
    kb.tap(space)
    third = device.read()
    assert not third.engaged and third.events == {"release"}
    assert device.read().events == frozenset()


def test_keyboard_hold_engage_is_a_dead_man_switch(kb, opened):
    device = connected(KeyboardTeleop(engage_mode="hold", keys={"engage": "shift_r"}), opened)
    kb.press(kb.Key.shift_r)
    kb.press("W")  # typed with the engage key (a Shift) held
    held = device.read()
    assert held.engaged and held.events == {"takeover"} and held.action[0] == 1.0
    kb.release(kb.Key.shift_r)
    let_go = device.read()
    assert not let_go.engaged and let_go.events == {"release"}


def test_keyboard_gripper_toggles_and_label_keys_are_reported_exactly_once(kb, opened):
    device = connected(KeyboardTeleop(), opened)
    kb.tap("g")
    assert device.read().action[6] == 1.0  # closed
    kb.tap("g")
    assert device.read().action[6] == -1.0  # open again
    kb.tap(kb.Key.enter)
    kb.tap(kb.Key.backspace)
    kb.tap(kb.Key.esc)
    kb.tap(kb.Key.enter)  # twice between reads: still one "success" in that read
    reads = [device.read(), device.read()]
    assert events_of(reads) == ["end_episode", "failure", "success"]
    assert all(word in EVENTS for word in reads[0].events)


def test_keyboard_key_map_overrides_named_keys_and_key_codes_of_named_keys(kb, opened):
    device = connected(KeyboardTeleop(keys=KeyMap(x_plus="up", x_minus="down")), opened)
    kb.press(kb.Key.up)
    assert device.read().action[0] == 1.0
    kb.release(kb.Key.up)
    kb.press("w")  # no longer bound
    assert device.read().action[0] == 0.0
    # Some backends report a named key as a KeyCode carrying the same virtual key code.
    kb.tap(kb.KeyCode.from_vk(kb.Key.space.value.vk))
    assert device.read().engaged


def test_keyboard_key_map_rejects_duplicates_and_unknown_names(kb):
    with pytest.raises(ConfigError, match=r"keys\.x_minus.*already bound to x_plus"):
        KeyMap(x_plus="s")
    with pytest.raises(ConfigError, match=r"keyboard\.keys\.nope: unknown"):
        KeyboardTeleop(keys={"nope": "q"})
    with pytest.raises(ConfigError, match="engage_mode"):
        KeyboardTeleop(engage_mode="sticky")
    device = KeyboardTeleop(keys={"gripper": "hyper_key"})
    with pytest.raises(ConfigError, match=r"keys\.gripper: 'hyper_key' is not a pynput Key name"):
        device.connect()
    assert kb.listeners == []


def test_keyboard_without_pynput_names_the_pip_extra(monkeypatch, display):
    monkeypatch.setitem(sys.modules, "pynput", None)  # import of pynput fails as if not installed
    with pytest.raises(TeleopUnavailable, match=r"keyboard: pynput is not installed") as err:
        KeyboardTeleop().connect()
    assert PIP in str(err.value)


def test_keyboard_without_a_display_is_refused_before_pynput_is_imported(kb, monkeypatch):
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setitem(sys.modules, "pynput", None)  # importing now would report "not installed"
    monkeypatch.setitem(sys.modules, "pynput.keyboard", None)
    with pytest.raises(TeleopUnavailable, match=r"keyboard: no display .*DISPLAY.*WAYLAND_DISPLAY"):
        KeyboardTeleop().connect()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # a Wayland session counts as a display
    with pytest.raises(TeleopUnavailable, match="not installed"):
        KeyboardTeleop().connect()


@pytest.mark.parametrize(("mode", "reason"), [("fail", "stopped while starting"), ("hang", "did not start within 0.2 s")])
def test_keyboard_listener_that_never_becomes_ready_is_unavailable_by_the_deadline(kb, mode, reason):
    kb.start_mode = mode
    device = KeyboardTeleop(connect_timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(TeleopUnavailable, match=f"keyboard: pynput's listener {reason}"):
        device.connect()
    assert time.monotonic() - started < 1.5
    wait_until(lambda: not kb.listeners[0].is_alive())  # stopped, not left running


def test_keyboard_disconnect_stops_the_listener_releases_control_and_is_idempotent(kb):
    device = KeyboardTeleop()
    with device:
        listener = kb.listeners[0]
        assert listener.is_alive() and listener.daemon
        kb.tap(kb.Key.space)
        kb.press("w")
        assert device.read().events == {"takeover"}
    assert not listener.is_alive()
    after = device.read()
    assert not after.engaged and after.events == {"release"} and not after.action[:6].any()
    device.disconnect()
    kb.tap(kb.Key.space)  # nobody listens any more
    assert not device.read().engaged


def test_keyboard_listener_that_dies_releases_control(kb, opened):
    device = connected(KeyboardTeleop(), opened)
    kb.tap(kb.Key.space)
    kb.press("a")
    assert device.read().engaged
    kb.crash()
    dead = device.read()
    assert not dead.engaged and dead.events == {"release"} and not dead.action[:6].any()


# ----------------------------------------------------------------------------------------------
# Gamepad (pygame)


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch, display) -> ModuleType:
    fake = load_fake("pygame", "fake_pygame.py")
    monkeypatch.setitem(sys.modules, "pygame", fake)
    return fake


def settle_pad(pg: ModuleType) -> None:
    """Return once a full poll has run after this call (each poll starts with event.get)."""
    start = sum(name == "event.get" for name, _ in list(pg.calls))
    wait_until(lambda: sum(name == "event.get" for name, _ in list(pg.calls)) >= start + 2)


def test_gamepad_sticks_and_dpad_become_scaled_clipped_commands_past_the_dead_zone(pg, opened):
    pad = pg.plug()
    device = connected(GamepadTeleop(dead_zone=0.1, scale=0.5, rotation_scale=2.0, poll_hz=FAST_HZ), opened)
    pad.axes[:] = [0.55, -1.0, -1.0, 0.3, 0.05, -1.0]  # LX, LY (up), LT (rest), RX, RY, RT (rest)
    pad.hats[0] = (1, -1)  # d-pad right and down
    settle_pad(pg)
    action = device.read().action
    assert action[0] == pytest.approx(0.5)  # stick fully up is +x, times scale
    assert action[1] == pytest.approx(-0.5 * (0.55 - 0.1) / 0.9)  # right is -y, rescaled past the dead zone
    assert action[2] == 0.0  # inside the dead zone
    assert action[3] == 1.0 and action[4] == -1.0  # d-pad right: +roll; down: -pitch
    assert action[5] == pytest.approx(-2.0 * (0.3 - 0.1) / 0.9)  # right stick right: -yaw
    pad.axes[3] = 1.0
    settle_pad(pg)
    assert device.read().action[5] == -1.0  # 2 x full deflection, clipped


def test_gamepad_hold_engage_and_toggle_engage(pg, opened):
    pad = pg.plug()
    device = connected(GamepadTeleop(poll_hz=FAST_HZ), opened)
    pad.buttons[5] = 1  # RB down
    settle_pad(pg)
    assert device.read().engaged
    pad.buttons[5] = 0
    settle_pad(pg)
    assert not device.read().engaged
    device.disconnect()

    toggled = connected(GamepadTeleop(engage_mode="toggle", poll_hz=FAST_HZ), opened)
    reads = []
    for down in (1, 0, 1, 0):
        pad.buttons[5] = down
        settle_pad(pg)
        reads.append(toggled.read())
    assert [r.engaged for r in reads] == [True, True, False, False]
    assert events_of(reads) == ["release", "takeover"]


def test_gamepad_gripper_and_label_buttons_fire_once_per_press(pg, opened):
    pad = pg.plug()
    device = connected(GamepadTeleop(poll_hz=FAST_HZ), opened)
    pad.buttons[0] = 1  # A held over many polls: one toggle
    settle_pad(pg)
    settle_pad(pg)
    assert device.read().action[6] == 1.0
    pad.buttons[0] = 0
    pad.buttons[3] = pad.buttons[1] = pad.buttons[7] = 1  # Y, B, Start
    settle_pad(pg)
    settle_pad(pg)
    reads = [device.read(), device.read()]
    assert events_of(reads) == ["end_episode", "failure", "success"]
    assert reads[0].action[6] == 1.0  # releasing A does not toggle back


def test_gamepad_button_held_while_connecting_needs_a_fresh_press(pg, opened):
    pad = pg.plug()
    pad.buttons[5] = 1
    device = connected(GamepadTeleop(poll_hz=FAST_HZ), opened)
    settle_pad(pg)
    assert not device.read().engaged
    pad.buttons[5] = 0
    settle_pad(pg)
    pad.buttons[5] = 1
    settle_pad(pg)
    assert device.read().engaged


def test_gamepad_analog_trigger_can_be_the_engage_button(pg, opened):
    pad = pg.plug()
    pad.axes[5] = -1.0  # a trigger at rest
    device = connected(GamepadTeleop(controls={"engage": "axis5"}, poll_hz=FAST_HZ), opened)
    pad.axes[5] = 0.2
    settle_pad(pg)
    assert not device.read().engaged
    pad.axes[5] = 0.9
    settle_pad(pg)
    assert device.read().engaged


def test_gamepad_all_pygame_calls_run_on_the_polling_thread(pg, opened):
    pg.plug()
    device = connected(GamepadTeleop(poll_hz=FAST_HZ), opened)
    settle_pad(pg)
    device.disconnect()
    threads = {thread for _, thread in pg.calls}
    assert threads == {"gamepad"}
    names = [name for name, _ in pg.calls]
    assert names[:2] == ["display.init", "joystick.init"] and names[-2:] == ["joystick.quit", "display.quit"]


def test_gamepad_with_no_pad_is_unavailable_and_shuts_pygame_down(pg):
    with pytest.raises(TeleopUnavailable, match=r"gamepad: no joystick or gamepad found"):
        GamepadTeleop().connect()
    assert not pg.joystick.get_init() and not pg.display.get_init()
    assert not any(t.name == "gamepad" for t in threading.enumerate())


def test_gamepad_controls_beyond_the_pad_are_unavailable_with_the_field_named(pg):
    pg.plug(name="Tiny Pad", n_axes=2, n_buttons=8, n_hats=1)
    with pytest.raises(TeleopUnavailable, match=r"'Tiny Pad' has 2 axis\(s\) but controls\.z uses axis 4"):
        GamepadTeleop().connect()


def test_gamepad_without_pygame_or_display_or_video_is_unavailable(pg, monkeypatch):
    pg.video_available = False
    with pytest.raises(TeleopUnavailable, match=r"pygame could not open the joystick: No available video device"):
        GamepadTeleop().connect()
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(TeleopUnavailable, match=r"gamepad: no display"):
        GamepadTeleop().connect()
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setitem(sys.modules, "pygame", None)
    with pytest.raises(TeleopUnavailable, match="gamepad: pygame is not installed") as err:
        GamepadTeleop().connect()
    assert PIP in str(err.value)


def test_gamepad_sets_the_sdl_background_hint_before_starting(pg, monkeypatch, opened):
    monkeypatch.delenv("SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS")
    pg.plug()
    connected(GamepadTeleop(poll_hz=FAST_HZ), opened)
    assert os.environ["SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS"] == "1"


def test_gamepad_unplugged_while_engaged_releases_control_and_stops(pg, opened):
    pad = pg.plug()
    device = connected(GamepadTeleop(poll_hz=FAST_HZ), opened)
    pad.axes[1] = -1.0
    pad.buttons[5] = 1
    settle_pad(pg)
    assert device.read().engaged
    pg.unplug(pad)
    wait_until(lambda: device.failure is not None)
    gone = device.read()
    assert not gone.engaged and gone.events == {"release"} and not gone.action[:6].any()
    assert "unplugged" in str(device.failure)
    wait_until(lambda: not any(t.name == "gamepad" for t in threading.enumerate()))


def test_gamepad_disconnect_stops_the_thread_and_is_idempotent(pg):
    pg.plug()
    device = GamepadTeleop(poll_hz=FAST_HZ)
    device.connect()
    assert [t for t in threading.enumerate() if t.name == "gamepad"]
    device.disconnect()
    assert not [t for t in threading.enumerate() if t.name == "gamepad"]
    assert not pg.joystick.get_init()
    device.disconnect()


def test_gamepad_controls_are_checked_when_built(pg):
    with pytest.raises(ConfigError, match=r"gamepad\.controls\.x: 'stick1'"):
        GamepadTeleop(controls={"x": "stick1"})
    with pytest.raises(ConfigError, match=r"controls\.success: 'button0' is already bound to gripper"):
        GamepadTeleop(controls={"success": "button0"})
    with pytest.raises(ConfigError, match=r"gamepad\.dead_zone"):
        GamepadTeleop(dead_zone=1.0)


# ----------------------------------------------------------------------------------------------
# SpaceMouse (pyspacemouse)


@pytest.fixture
def psm(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    fake = load_fake("pyspacemouse", "fake_pyspacemouse.py")
    monkeypatch.setitem(sys.modules, "pyspacemouse", fake)
    return fake


def settle_mouse(mouse) -> None:
    """Return once the queue is empty and a full poll has applied the newest state."""
    wait_until(lambda: mouse.pending() == 0)
    start = mouse.reads
    wait_until(lambda: mouse.reads >= start + 2)


def test_spacemouse_axes_are_remapped_dead_zoned_scaled_and_clipped(psm, opened):
    mouse = psm.plug()
    controls = SpaceMouseControls(axes=("-y", "x", "z", "roll", "pitch", "yaw"))
    device = connected(SpaceMouseTeleop(controls, dead_zone=0.05, rotation_scale=2.0, poll_hz=FAST_HZ), opened)
    mouse.queue(x=0.5, y=-1.5, z=0.02)  # translation report (raw values can exceed 1)
    mouse.queue(roll=0.3, pitch=-0.3, yaw=0.8)  # rotation report
    settle_mouse(mouse)
    action = device.read().action
    assert action[0] == 1.0  # -y: 1.5 past the dead zone, clipped
    assert action[1] == pytest.approx((0.5 - 0.05) / 0.95)
    assert action[2] == 0.0  # drift inside the dead zone
    assert action[3] == pytest.approx(2.0 * (0.3 - 0.05) / 0.95)
    assert action[4] == pytest.approx(-2.0 * (0.3 - 0.05) / 0.95)
    assert action[5] == 1.0  # 2 x 0.8, clipped


def test_spacemouse_reads_drain_every_queued_report_so_the_command_is_the_newest(psm, opened):
    mouse = psm.plug()
    for i in range(40):  # reports that piled up: one read() consumes one
        mouse.queue(x=i / 100)
    device = connected(SpaceMouseTeleop(dead_zone=0.0, poll_hz=FAST_HZ), opened)
    assert mouse.pending() == 0  # drained while opening, not one report per poll
    settle_mouse(mouse)
    assert device.read().action[0] == pytest.approx(0.39)
    for i in range(30):
        mouse.queue(x=-i / 100)
    settle_mouse(mouse)
    assert device.read().action[0] == pytest.approx(-0.29)


def test_spacemouse_button0_engages_while_held_and_button1_toggles_the_gripper(psm, opened):
    mouse = psm.plug()
    device = connected(SpaceMouseTeleop(poll_hz=FAST_HZ), opened)
    reads = []
    for buttons in ([1, 0], [1, 1], [1, 0], [0, 0], [0, 1], [0, 0]):
        mouse.queue(buttons=buttons)
        settle_mouse(mouse)
        reads.append(device.read())
    assert [r.engaged for r in reads] == [True, True, True, False, False, False]
    assert [r.action[6] for r in reads] == [-1, 1, 1, 1, -1, -1]
    assert events_of(reads) == ["release", "takeover"]


def test_spacemouse_button_held_while_connecting_needs_a_fresh_press(psm, opened):
    mouse = psm.plug()
    mouse.queue(buttons=[1, 0])
    device = connected(SpaceMouseTeleop(poll_hz=FAST_HZ), opened)
    settle_mouse(mouse)
    assert not device.read().engaged
    mouse.queue(buttons=[0, 0])
    mouse.queue(buttons=[1, 0])
    settle_mouse(mouse)
    assert device.read().engaged


def test_spacemouse_spare_buttons_can_label_the_episode(psm, opened):
    mouse = psm.plug(name="SpaceMouse Pro Wireless", n_buttons=4)
    device = connected(SpaceMouseTeleop({"success": 2, "end_episode": 3}, poll_hz=FAST_HZ), opened)
    mouse.queue(buttons=[0, 0, 1, 1])
    settle_mouse(mouse)
    mouse.queue(buttons=[0, 0, 1, 1])  # still held: no second report
    settle_mouse(mouse)
    assert events_of([device.read(), device.read()]) == ["end_episode", "success"]


def test_spacemouse_without_a_device_is_unavailable_with_the_reason(psm):
    with pytest.raises(TeleopUnavailable, match=r"spacemouse: no SpaceMouse could be opened \(No found any"):
        SpaceMouseTeleop().connect()
    psm.plug()
    psm.hid_mismatch = True
    with pytest.raises(TeleopUnavailable, match=r"no SpaceMouse found \(pyspacemouse.open\(\) returned None\)"):
        SpaceMouseTeleop().connect()
    assert not [t for t in threading.enumerate() if t.name == "spacemouse"]


def test_spacemouse_button_beyond_the_device_is_unavailable_and_closes_it(psm):
    mouse = psm.plug(n_buttons=2)
    with pytest.raises(TeleopUnavailable, match=r"reports 2 button\(s\) but controls\.success uses button 5"):
        SpaceMouseTeleop({"success": 5}).connect()
    assert not mouse.connected


class _BrokenImport(importlib.abc.MetaPathFinder):
    """Makes importing one module raise OSError, as easyhid does without the hidapi library."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname, path, target=None):
        if fullname == self.name:
            raise OSError("cannot load library 'hidapi-hidraw'")
        return None


def test_spacemouse_without_pyspacemouse_or_hidapi_is_unavailable_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspacemouse", None)
    with pytest.raises(TeleopUnavailable, match="spacemouse: pyspacemouse is not installed") as err:
        SpaceMouseTeleop().connect()
    assert PIP in str(err.value)
    monkeypatch.delitem(sys.modules, "pyspacemouse")
    monkeypatch.setattr(sys, "meta_path", [_BrokenImport("pyspacemouse"), *sys.meta_path])
    with pytest.raises(TeleopUnavailable, match=r"installed but cannot load: cannot load library.*libhidapi-dev"):
        SpaceMouseTeleop().connect()


def test_spacemouse_unplugged_releases_control_and_closes(psm, opened):
    mouse = psm.plug()
    device = connected(SpaceMouseTeleop(poll_hz=FAST_HZ), opened)
    mouse.queue(x=1.0, buttons=[1, 0])
    settle_mouse(mouse)
    assert device.read().engaged
    psm.unplug(mouse)
    wait_until(lambda: device.failure is not None)
    gone = device.read()
    assert not gone.engaged and gone.events == {"release"} and not gone.action[:6].any()
    wait_until(lambda: not mouse.connected)


def test_spacemouse_disconnect_stops_the_thread_closes_the_device_and_is_idempotent(psm):
    mouse = psm.plug()
    with SpaceMouseTeleop(poll_hz=FAST_HZ) as device:
        assert mouse.connected and [t for t in threading.enumerate() if t.name == "spacemouse"]
        mouse.queue(buttons=[1, 0])
        settle_mouse(mouse)
    assert not mouse.connected
    assert not [t for t in threading.enumerate() if t.name == "spacemouse"]
    reads_after = mouse.reads
    time.sleep(0.02)
    assert mouse.reads == reads_after  # nothing polls any more
    assert device.read().events == {"takeover", "release"}  # engaged, then released on disconnect
    device.disconnect()


def test_spacemouse_controls_are_checked_when_built():
    with pytest.raises(ConfigError, match=r"spacemouse\.controls\.axes"):
        SpaceMouseControls(axes=("x", "y", "z"))
    with pytest.raises(ConfigError, match=r"controls\.gripper: button 0 is already bound to engage"):
        SpaceMouseControls(gripper=0)
    assert SpaceMouseControls(axes=["-x", "y", "z", "roll", "pitch", "yaw"]).axes[0] == "-x"  # YAML lists


# ----------------------------------------------------------------------------------------------
# Registry


def test_make_teleop_builds_each_kind_without_importing_its_library(monkeypatch):
    for module in ("pynput", "pygame", "pyspacemouse"):
        monkeypatch.setitem(sys.modules, module, None)
    assert isinstance(make_teleop("keyboard", speed=0.3), KeyboardTeleop)
    gamepad = make_teleop("gamepad", dead_zone=0.2, controls={"engage": "button4"})
    assert isinstance(gamepad, GamepadTeleop) and gamepad.dead_zone == 0.2
    assert isinstance(make_teleop("spacemouse"), SpaceMouseTeleop)


def test_make_teleop_names_unknown_kinds_and_options_and_takes_new_kinds():
    with pytest.raises(ConfigError, match=r"unknown teleop type 'joystick'; known types: gamepad, keyboard, spacemouse"):
        make_teleop("joystick")
    with pytest.raises(ConfigError, match=r"teleop 'spacemouse':.*dead_zon"):
        make_teleop("spacemouse", dead_zon=0.1)
    TELEOP.register("scripted", "fleetrl.hardware.teleop.keyboard:KeyboardTeleop")
    try:
        assert isinstance(make_teleop("scripted"), KeyboardTeleop)
    finally:
        TELEOP.unregister("scripted")
