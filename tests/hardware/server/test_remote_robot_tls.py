"""A TLS robot server talks to clients that trust its certificate, and to no one in plain text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fleetrl.core.errors import ConfigError, RobotConnectionError
from fleetrl.hardware.robots.fake import FakeArm
from fleetrl.hardware.server.remote_robot import RemoteRobot, RemoteRobotConfig
from fleetrl.hardware.server.robot_server import RobotServer

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def cert_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def tls_client(address: str, token: str, ca: Path | None, timeout_s: float = 5.0) -> RemoteRobot:
    return RemoteRobot(
        RemoteRobotConfig(address=address, token=token, timeout_s=timeout_s, tls_ca=str(ca) if ca else None)
    )


def test_tls_round_trip(cert_pair, fake_arm: FakeArm, token: str) -> None:
    cert, key = cert_pair
    with RobotServer(fake_arm, token, tls_cert=cert, tls_key=key) as server:
        assert server.tls
        with tls_client(f"localhost:{server.port}", token, cert) as robot:
            robot.reset(seed=0)
            applied = robot.send_action(np.zeros(7))
        assert applied.tobytes() == fake_arm.applied[-1].tobytes()


def test_plain_client_cannot_talk_to_a_tls_server(cert_pair, fake_arm: FakeArm, token: str) -> None:
    cert, key = cert_pair
    with RobotServer(fake_arm, token, tls_cert=cert, tls_key=key) as server:
        with pytest.raises(RobotConnectionError):
            tls_client(f"localhost:{server.port}", token, None, timeout_s=1.0).connect()
    assert fake_arm.applied == []


def test_tls_needs_both_files(cert_pair, fake_arm: FakeArm, token: str) -> None:
    with pytest.raises(ConfigError, match="--tls-key"):
        RobotServer(fake_arm, token, tls_cert=cert_pair[0])


def test_unreadable_tls_file_is_a_config_error(tmp_path: Path, fake_arm: FakeArm, token: str) -> None:
    server = RobotServer(fake_arm, token, tls_cert=tmp_path / "missing.pem", tls_key=tmp_path / "missing.key")
    with pytest.raises(ConfigError, match="missing.pem"):
        server.start()
