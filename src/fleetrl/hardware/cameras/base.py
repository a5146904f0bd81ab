"""The camera interface a real robot reads its frames through.

A robot owns its `CameraSource`s: it connects them with itself, reads one frame from each per
observation and disconnects them when it disconnects. Sources know nothing of robots, so the same
camera class serves any arm, and tests pass fakes in their place.
"""

from __future__ import annotations

import abc
from types import TracebackType

import numpy as np

from fleetrl.core.errors import RobotConnectionError
from fleetrl.core.types import CameraSpec


class CameraError(RobotConnectionError):
    """A camera could not be opened, or gave no usable frame before its deadline."""


class CameraSource(abc.ABC):
    """A camera that hands out its newest RGB frame on request.

        camera.connect()
        try:
            image, t = camera.read()     # (H, W, 3) uint8 RGB; t in time.time() seconds
        finally:
            camera.disconnect()

    `spec` is known before `connect()` and `read()` returns frames of exactly its height and
    width. `read` waits at most `timeout_s` seconds (the source's own default when None) and raises
    `CameraError` naming the camera when no frame arrived by then. The returned array is owned by
    the caller. `disconnect` is idempotent and never raises.
    """

    @property
    @abc.abstractmethod
    def spec(self) -> CameraSpec:
        """Name, frame size and mount of this camera."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool:
        """True between a successful `connect()` and `disconnect()`."""

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the device and start streaming. Idempotent; raises `CameraError` on failure."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Stop streaming and release the device. Idempotent; never raises."""

    @abc.abstractmethod
    def read(self, timeout_s: float | None = None) -> tuple[np.ndarray, float]:
        """The next frame as ((H, W, 3) uint8 RGB, capture time in `time.time()` seconds)."""

    def __enter__(self) -> CameraSource:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()


def check_frame(spec: CameraSpec, image: np.ndarray) -> np.ndarray:
    """Return `image` if it is a (spec.height, spec.width, 3) uint8 array, else raise `CameraError`."""
    expected = (spec.height, spec.width, 3)
    if image.dtype != np.uint8 or image.shape != expected:
        raise CameraError(
            f"camera {spec.name!r}: expected a {expected} uint8 frame, got {image.shape} {image.dtype}"
        )
    return image
