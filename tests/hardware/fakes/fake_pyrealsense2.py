"""A fake of the part of pyrealsense2 that fleetrl's RealSense camera calls.

Loaded as the module `pyrealsense2` by a test fixture, one fresh copy per test. Every call is
appended to `calls` as (name, args, kwargs). `devices` maps the serial numbers that are "plugged
in" to their settings: `timestamp_domain` (a `timestamp_domain` member), `timestamp_ms` (the
camera clock of the next frame), `stall` (True: wait_for_frames times out as librealsense does,
with RuntimeError "Frame didn't arrive within N") and `no_color` (framesets lack a colour frame).
Frames are filled with the frame number so tests can tell them apart.
"""

from __future__ import annotations

import enum

import numpy as np

calls: list[tuple[str, tuple, dict]] = []
devices: dict[str, dict] = {}


def _record(name: str, *args, **kwargs) -> None:
    calls.append((name, args, kwargs))


def add_device(serial: str, **settings) -> dict:
    device = {"timestamp_domain": timestamp_domain.global_time, "timestamp_ms": 1.7e12, "stall": False, "no_color": False}
    device.update(settings)
    devices[serial] = device
    return device


class stream(enum.Enum):
    any = 0
    depth = 1
    color = 2


class format(enum.Enum):  # noqa: A001 - pyrealsense2's own name
    any = 0
    z16 = 1
    rgb8 = 5
    bgr8 = 6


class timestamp_domain(enum.Enum):
    hardware_clock = 0
    system_time = 1
    global_time = 2


class config:
    def __init__(self) -> None:
        _record("config")
        self.serial: str | None = None
        self.streams: list[tuple] = []

    def enable_device(self, serial: str) -> None:
        _record("config.enable_device", serial)
        self.serial = serial

    def enable_stream(self, stream_type, width, height, format, framerate) -> None:  # noqa: A002
        _record("config.enable_stream", stream_type, width, height, format, framerate)
        self.streams.append((stream_type, width, height, format, framerate))


class video_frame:
    def __init__(self, image: np.ndarray | None, timestamp_ms: float, domain: timestamp_domain) -> None:
        self._image, self._timestamp_ms, self._domain = image, timestamp_ms, domain

    def __bool__(self) -> bool:
        return self._image is not None

    def get_data(self) -> np.ndarray:
        if self._image is None:
            raise RuntimeError("null frame")
        return self._image

    def get_timestamp(self) -> float:
        return self._timestamp_ms

    def get_frame_timestamp_domain(self) -> timestamp_domain:
        return self._domain


class composite_frame:
    def __init__(self, color: video_frame) -> None:
        self._color = color

    def get_color_frame(self) -> video_frame:
        return self._color


class pipeline:
    def __init__(self) -> None:
        _record("pipeline")
        self._config: config | None = None
        self._frame_number = 0

    def start(self, cfg: config) -> None:
        _record("pipeline.start", cfg)
        if cfg.serial not in devices:
            raise RuntimeError("No device connected")
        if len(cfg.streams) != 1 or cfg.streams[0][0] is not stream.color:
            raise RuntimeError("Couldn't resolve requests")
        self._config = cfg

    def stop(self) -> None:
        _record("pipeline.stop")
        if self._config is None:
            raise RuntimeError("stop() cannot be called before start()")
        self._config = None

    def wait_for_frames(self, timeout_ms: int = 5000) -> composite_frame:
        _record("pipeline.wait_for_frames", timeout_ms)
        if self._config is None:
            raise RuntimeError("wait_for_frames cannot be called before start()")
        device = devices[self._config.serial]
        if device["stall"]:
            raise RuntimeError(f"Frame didn't arrive within {timeout_ms}")
        self._frame_number += 1
        _, width, height, fmt, _ = self._config.streams[0]
        channels = 3 if fmt in (format.rgb8, format.bgr8) else 1
        image = None if device["no_color"] else np.full((height, width, channels), self._frame_number % 256, np.uint8)
        stamp = device["timestamp_ms"]
        device["timestamp_ms"] = stamp + 33.0
        return composite_frame(video_frame(image, stamp, device["timestamp_domain"]))
