"""The RealSense camera against a fake pyrealsense2: the calls it makes, frames, times and errors."""

from __future__ import annotations

import sys
import time
from types import ModuleType

import numpy as np
import pytest
from fakes import load_fake

from fleetrl.core.config import validate
from fleetrl.core.errors import ConfigError, RobotConnectionError
from fleetrl.hardware.cameras.base import CameraError
from fleetrl.hardware.cameras.realsense import RealSenseCamera, RealSenseConfig


@pytest.fixture
def rs(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    fake = load_fake("pyrealsense2", "fake_pyrealsense2.py")
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake)
    return fake


def make_camera(**overrides) -> RealSenseCamera:
    fields = {"name": "wrist", "serial": "123456", "mount": "wrist", "height": 48, "width": 64, "fps": 15, "timeout_s": 0.25}
    fields.update(overrides)
    return RealSenseCamera(RealSenseConfig(**fields))


def test_connect_starts_an_rgb8_colour_stream_on_the_configured_device(rs):
    rs.add_device("123456")
    camera = make_camera()
    camera.connect()
    assert camera.is_connected
    names = [name for name, _, _ in rs.calls]
    assert names[:4] == ["pipeline", "config", "config.enable_device", "config.enable_stream"]
    assert ("config.enable_device", ("123456",), {}) in rs.calls
    assert ("config.enable_stream", (rs.stream.color, 64, 48, rs.format.rgb8, 15), {}) in rs.calls
    assert names[4] == "pipeline.start"
    camera.connect()  # idempotent
    assert names.count("pipeline.start") == 1


def test_read_returns_an_rgb_frame_of_the_spec_size_with_the_deadline_in_ms(rs):
    rs.add_device("123456")
    with make_camera() as camera:
        image, _ = camera.read()
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8
        assert camera.spec.height == 48 and camera.spec.width == 64 and camera.spec.mount == "wrist"
        camera.read(timeout_s=0.04)
    waits = [args for name, args, _ in rs.calls if name == "pipeline.wait_for_frames"]
    assert waits == [(250,), (40,)]


def test_host_clock_timestamps_are_converted_from_ms_to_seconds(rs):
    rs.add_device("123456", timestamp_domain=rs.timestamp_domain.global_time, timestamp_ms=1_700_000_000_500.0)
    with make_camera() as camera:
        _, first = camera.read()
        _, second = camera.read()
    assert first == pytest.approx(1_700_000_000.5)
    assert second - first == pytest.approx(0.033)


def test_a_hardware_clock_timestamp_is_replaced_by_the_host_arrival_time(rs):
    rs.add_device("123456", timestamp_domain=rs.timestamp_domain.hardware_clock, timestamp_ms=12_345.0)
    with make_camera() as camera:
        before = time.time()
        _, stamp = camera.read()
    assert before <= stamp <= time.time()


def test_a_frame_timeout_is_a_camera_error_naming_camera_serial_and_deadline(rs):
    rs.add_device("123456", stall=True)
    with make_camera() as camera:
        with pytest.raises(CameraError, match=r"'wrist' \(serial 123456\): no frame within 250 ms"):
            camera.read()
    assert issubclass(CameraError, RobotConnectionError)


def test_a_frameset_without_colour_is_an_error(rs):
    rs.add_device("123456", no_color=True)
    with make_camera() as camera, pytest.raises(CameraError, match="without a colour frame"):
        camera.read()


def test_an_absent_device_fails_connect_with_its_serial(rs):
    camera = make_camera(serial="999")
    with pytest.raises(CameraError, match=r"serial 999.*No device connected"):
        camera.connect()
    assert not camera.is_connected


def test_missing_pyrealsense2_names_the_pip_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyrealsense2", None)  # makes the import fail
    with pytest.raises(CameraError, match=r"pip install 'fleetrl\[realsense\]'"):
        make_camera().connect()


def test_read_before_connect_and_repeated_disconnect(rs):
    rs.add_device("123456")
    camera = make_camera()
    with pytest.raises(CameraError, match="not connected"):
        camera.read()
    camera.disconnect()  # never connected: nothing to do
    camera.connect()
    camera.disconnect()
    camera.disconnect()
    assert [name for name, _, _ in rs.calls].count("pipeline.stop") == 1


def test_disconnect_never_raises_when_the_device_is_gone(rs):
    rs.add_device("123456")
    camera = make_camera()
    camera.connect()
    camera._pipeline.stop()  # as if unplugged: the next stop fails inside pyrealsense2
    camera.disconnect()
    assert not camera.is_connected


def test_config_requires_a_serial_and_rejects_unknown_keys():
    with pytest.raises(ConfigError, match=r"cam\.serial"):
        validate(RealSenseConfig, {"name": "wrist"}, "cam")
    with pytest.raises(ConfigError, match=r"cam\.exposure: unknown key"):
        validate(RealSenseConfig, {"name": "wrist", "serial": "1", "exposure": 3}, "cam")
    config = validate(RealSenseConfig, {"name": "scene", "serial": "1"})
    assert (config.height, config.width, config.fps, config.mount) == (480, 640, 30, "scene")
