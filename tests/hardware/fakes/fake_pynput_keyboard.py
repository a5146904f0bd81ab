"""A fake of `pynput.keyboard` (1.8): `Key`, `KeyCode` and a `Listener` that is a real thread.

Loaded as the module `pynput.keyboard` by a test fixture, one fresh copy per test. As in pynput,
a listener is a daemon `threading.Thread` that calls `on_press(key, injected)` and
`on_release(key, injected)` from its own thread, stops when a callback returns False or raises,
and `wait()` blocks until it is ready (forever, if its backend never starts). Tests drive it with
`press`, `release` and `tap`, which hand a key to every running listener and return once its
callback has run; `start_mode` makes the next listeners fail ("fail": the thread ends at once)
or never become ready ("hang"); `crash()` ends running listeners as a lost X connection would.
"""

from __future__ import annotations

import enum
import queue
import threading

start_mode = "ok"
listeners: list[Listener] = []


class KeyCode:
    def __init__(self, vk: int | None = None, char: str | None = None, is_dead: bool = False, **kwargs) -> None:
        self.vk = vk
        self.char = str(char) if char is not None else None
        self.is_dead = is_dead

    @classmethod
    def from_vk(cls, vk: int, **kwargs) -> KeyCode:
        return cls(vk=vk, **kwargs)

    @classmethod
    def from_char(cls, char: str, **kwargs) -> KeyCode:
        return cls(char=char, **kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyCode):
            return False
        if self.char is not None and other.char is not None:
            return self.char == other.char and self.is_dead == other.is_dead
        return self.vk == other.vk

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return repr(self.char) if self.char is not None else f"<{self.vk}>"


_KEY_NAMES = (
    "alt alt_l alt_r alt_gr backspace caps_lock cmd cmd_l cmd_r ctrl ctrl_l ctrl_r delete down end "
    "enter esc f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 home left page_down page_up right shift "
    "shift_l shift_r space tab up insert menu num_lock pause print_screen scroll_lock"
).split()

# pynput's Key members are KeyCodes with the platform's virtual key codes; distinct ones here.
Key = enum.Enum("Key", {name: KeyCode.from_vk(0xFF00 + i) for i, name in enumerate(_KEY_NAMES)})


class Listener(threading.Thread):
    class StopException(Exception):
        pass

    def __init__(self, on_press=None, on_release=None, suppress: bool = False, **kwargs) -> None:
        super().__init__()
        self.daemon = True
        self.on_press = on_press or (lambda key, injected: None)
        self.on_release = on_release or (lambda key, injected: None)
        self._suppress = suppress
        self._running = False
        self._ready = threading.Event()
        self._inbox: queue.Queue = queue.Queue()
        self._mode = start_mode
        listeners.append(self)

    @property
    def suppress(self) -> bool:
        return self._suppress

    @property
    def running(self) -> bool:
        return self._running

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._inbox.put(None)

    def wait(self) -> None:
        self._ready.wait()

    def canonical(self, key):
        if isinstance(key, KeyCode) and key.char is not None:
            return KeyCode.from_char(key.char.lower())
        return key

    def __enter__(self) -> Listener:
        self.start()
        self.wait()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def run(self) -> None:
        if self._mode == "fail":
            return
        self._running = True
        if self._mode == "hang":
            while self._inbox.get() is not None:
                pass
            return
        self._ready.set()
        while True:
            item = self._inbox.get()
            if item is None:
                return
            callback, key, done = item
            try:
                stop = callback(key, False) is False
            except Exception:
                stop = True
            finally:
                done.set()
            if stop:
                self._running = False
                return


def _as_key(key):
    return KeyCode.from_char(key) if isinstance(key, str) else key


def _deliver(which: str, key) -> None:
    for listener in list(listeners):
        if not listener.running or not listener._ready.is_set():
            continue
        done = threading.Event()
        listener._inbox.put((getattr(listener, which), _as_key(key), done))
        if not done.wait(2.0):
            raise TimeoutError(f"fake pynput: {which} of {key!r} was not handled")


def press(key) -> None:
    """A key goes down: a one-character string, a `KeyCode` or a `Key` member."""
    _deliver("on_press", key)


def release(key) -> None:
    _deliver("on_release", key)


def tap(key) -> None:
    press(key)
    release(key)


def crash() -> None:
    """End every running listener as a failing backend would (its thread exits)."""
    for listener in list(listeners):
        if listener.running:
            listener._running = False
            listener._inbox.put(None)
            listener.join(2.0)
