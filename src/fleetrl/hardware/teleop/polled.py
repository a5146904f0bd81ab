"""The life cycle the gamepad and SpaceMouse drivers share: a device read by a polling thread.

`connect()` prepares the library on the caller's thread (`_open_library`), then starts a
`DevicePoller` that runs `_setup` once, `_step` at `poll_hz` and `_teardown` at the end, all on
the polling thread; `read()` is a snapshot of the command state that `_step` updates;
`disconnect()` stops the thread and releases control. A device that fails while in use releases
control too, and `failure` says why.
"""

from __future__ import annotations

import abc

from fleetrl.hardware.teleop.base import TeleopCommand, Teleoperator
from fleetrl.hardware.teleop.common import CommandState, DevicePoller


class PolledTeleoperator(Teleoperator):
    """Subclasses set `name`, `engage_mode`, `poll_hz` and `connect_timeout_s` before `connect`."""

    engage_mode: str
    poll_hz: float
    connect_timeout_s: float

    def _init_polling(self) -> None:
        """Call from the subclass's __init__ once `engage_mode` is set."""
        self.failure: BaseException | None = None  # why the polling thread stopped on its own, if it did
        self._state = CommandState(self.engage_mode)
        self._poller: DevicePoller | None = None

    @abc.abstractmethod
    def _open_library(self) -> None:
        """Import and prepare the device's library (TeleopUnavailable when it cannot be)."""

    @abc.abstractmethod
    def _setup(self) -> None:
        """Open the device (polling thread)."""

    @abc.abstractmethod
    def _step(self) -> None:
        """Read the device once into `self._state` (polling thread)."""

    @abc.abstractmethod
    def _teardown(self) -> None:
        """Close the device (polling thread); must tolerate a half-finished `_setup`."""

    def connect(self) -> None:
        if self._poller is not None:
            return
        self._open_library()
        self._state = CommandState(self.engage_mode)
        self.failure = None
        poller = DevicePoller(self.name, self._setup, self._step, self._teardown, self.poll_hz, self._on_failure)
        poller.start(self.connect_timeout_s)
        self._poller = poller

    def read(self) -> TeleopCommand:
        return self._state.snapshot()

    def disconnect(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.stop()
            self._state.release_all()

    def _on_failure(self, err: BaseException) -> None:
        self.failure = err
        self._state.release_all()
