"""`fleetrl robot-server` end to end: serve a fake arm, drive it remotely, stop it with a signal."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fleetrl.hardware.server.remote_robot import RemoteRobot

TOKEN = "smoke-token"
SERVING = re.compile(r"^serving (\S+) \((\S+), (\d+) DoF\) on (\S+):(\d+)$")


def start_server(*args: str, token: str | None = TOKEN) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "FLEETRL_ROBOT_TOKEN"}
    if token is not None:
        env["FLEETRL_ROBOT_TOKEN"] = token
    return subprocess.Popen(
        [sys.executable, "-m", "fleetrl.cli.main", "robot-server", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    """The next stdout line, or fail after `timeout_s` seconds (killing the server)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=timeout_s):
            proc.kill()
            pytest.fail(f"robot-server printed nothing within {timeout_s} s; stderr: {proc.communicate(timeout=5)[1]}")
    return proc.stdout.readline().strip()


@pytest.mark.smoke
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_drive_and_stop(stop_signal: signal.Signals) -> None:
    proc = start_server("--robot", "fake", "--name", "smoke-arm", "--port", "0")
    try:
        line = read_line(proc, timeout_s=60)
        match = SERVING.match(line)
        assert match, f"unexpected first line {line!r}"
        name, kind, dof, host, port = match.groups()
        assert (name, kind, dof, host) == ("smoke-arm", "fake", "7", "127.0.0.1")
        with RemoteRobot.at(f"{host}:{port}", TOKEN, timeout_s=5.0) as robot:
            assert robot.spec.name == "smoke-arm"
            obs = robot.reset(seed=0)
            for _ in range(5):
                robot.send_action(np.array([0.01, 0, 0, 0, 0, 0, 0.5]))
            assert robot.get_observation().ee_pos[0] > obs.ee_pos[0]
            assert robot.health().ok
        start = time.monotonic()
        proc.send_signal(stop_signal)
        _, stderr = proc.communicate(timeout=15)
        assert proc.returncode == 0, stderr
        assert time.monotonic() - start < 15
        assert "stopped serving smoke-arm" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)


@pytest.mark.smoke
def test_missing_token_exits_2() -> None:
    proc = start_server("--robot", "fake", token=None)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--token" in stderr and "FLEETRL_ROBOT_TOKEN" in stderr


@pytest.mark.smoke
def test_bad_config_key_exits_2(tmp_path) -> None:
    config = tmp_path / "robot.yaml"
    config.write_text("type: fake\ncontrol_hz: -1\n")
    proc = start_server("--robot", "fake", "--config", str(config))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "robot.yaml" in stderr and "control_hz" in stderr
