"""Intel RealSense colour cameras through pyrealsense2 (an optional dependency).

pyrealsense2 is imported only in `connect()`, so configs naming RealSense cameras load, and the
rest of fleetrl runs, on machines without it. Untested on hardware: the calls follow the
documented pyrealsense2 API (pipeline, config, frameset, frame) and are exercised against a fake.
"""

from __future__ import annotations

import importlib
import time
from types import ModuleType
from typing import Any

import numpy as np
from pydantic import Field

from fleetrl.core.types import CameraSpec
from fleetrl.hardware.cameras.base import CameraError, CameraSource, check_frame
from fleetrl.hardware.robot_config import CameraConfig

INSTALL_HINT = "pyrealsense2 is not installed: pip install 'fleetrl[realsense]'"


class RealSenseConfig(CameraConfig):
    """One RealSense camera (config key `cameras[i]` of a real robot).

    `height` x `width` at `fps` must be a colour mode the camera model supports (for example
    480 x 640 or 720 x 1280 at 15 or 30 fps on a D435); frames are delivered at exactly that size.
    """

    serial: str = Field(min_length=1, description="Serial number of the camera (printed on it; see `rs-enumerate-devices`).")
    height: int = Field(480, gt=0, le=2048, description="Colour stream height in pixels.")
    width: int = Field(640, gt=0, le=2048, description="Colour stream width in pixels.")
    fps: int = Field(30, gt=0, le=90, description="Colour stream frame rate in Hz.")
    timeout_s: float = Field(
        0.5, gt=0, le=10, description="Deadline for one frame in seconds; a later frame is an error."
    )


def import_pyrealsense2() -> ModuleType:
    """The pyrealsense2 module; `CameraError` naming the pip extra when it is not installed."""
    try:
        return importlib.import_module("pyrealsense2")
    except ImportError as err:
        raise CameraError(INSTALL_HINT) from err


class RealSenseCamera(CameraSource):
    """The colour stream of one RealSense camera, selected by serial number.

    `connect` starts a pipeline streaming rgb8 at the configured size and rate; `read` waits for
    the next frameset (at most `timeout_s`) and returns its colour frame. Capture times come from
    the camera when its timestamp domain is the host clock (system or global time, milliseconds
    since the epoch); with a hardware-clock domain the host time of arrival is used instead.
    """

    def __init__(self, config: RealSenseConfig) -> None:
        self.config = config
        self._spec = config.to_spec()
        self._rs: Any = None
        self._pipeline: Any = None

    @property
    def spec(self) -> CameraSpec:
        return self._spec

    @property
    def is_connected(self) -> bool:
        return self._pipeline is not None

    def connect(self) -> None:
        if self._pipeline is not None:
            return
        rs = import_pyrealsense2()
        cfg = self.config
        try:
            pipeline = rs.pipeline()
            rs_config = rs.config()
            rs_config.enable_device(cfg.serial)
            rs_config.enable_stream(rs.stream.color, cfg.width, cfg.height, rs.format.rgb8, cfg.fps)
            pipeline.start(rs_config)
        except Exception as err:  # pyrealsense2 raises RuntimeError for absent devices and bad modes
            raise CameraError(
                f"camera {cfg.name!r} (serial {cfg.serial}): cannot start colour stream "
                f"{cfg.width}x{cfg.height} rgb8 at {cfg.fps} fps: {err}"
            ) from err
        self._rs, self._pipeline = rs, pipeline

    def disconnect(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        try:
            pipeline.stop()
        except Exception:  # an unplugged camera must not stop the robot from shutting down
            pass

    def read(self, timeout_s: float | None = None) -> tuple[np.ndarray, float]:
        if self._pipeline is None:
            raise CameraError(f"camera {self.name!r} is not connected; call connect() first")
        deadline_s = self.config.timeout_s if timeout_s is None else timeout_s
        try:
            frames = self._pipeline.wait_for_frames(max(1, int(round(deadline_s * 1000))))
        except RuntimeError as err:  # pyrealsense2's timeout: "Frame didn't arrive within N"
            raise CameraError(
                f"camera {self.name!r} (serial {self.config.serial}): no frame within "
                f"{deadline_s * 1000:.0f} ms: {err}"
            ) from err
        arrival_s = time.time()
        color = frames.get_color_frame()
        if not color:
            raise CameraError(f"camera {self.name!r}: frameset without a colour frame")
        image = check_frame(self._spec, np.array(color.get_data(), dtype=np.uint8, copy=True))
        return image, self._capture_time(color, arrival_s)

    def _capture_time(self, frame: Any, arrival_s: float) -> float:
        domain = frame.get_frame_timestamp_domain()
        host_domains = (self._rs.timestamp_domain.system_time, self._rs.timestamp_domain.global_time)
        if domain in host_domains:
            return float(frame.get_timestamp()) / 1000.0
        return arrival_s
