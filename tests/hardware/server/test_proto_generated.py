"""The checked-in gRPC code is what `make proto` generates from robot.proto today."""

from __future__ import annotations

from pathlib import Path

import pytest

grpc_tools = pytest.importorskip("grpc_tools")
from grpc_tools import protoc  # noqa: E402

import fleetrl.hardware.server as server_pkg  # noqa: E402

SERVER_DIR = Path(server_pkg.__file__).parent
SRC = SERVER_DIR.parents[2]
PROTO = "fleetrl/hardware/server/robot.proto"


def test_generated_code_matches_robot_proto(tmp_path: Path) -> None:
    include = Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        ["grpc_tools.protoc", f"-I{SRC}", f"-I{include}", f"--python_out={tmp_path}", f"--grpc_python_out={tmp_path}",
         str(SRC / PROTO)]
    )
    assert status == 0, "protoc failed on robot.proto"
    for name in ("robot_pb2.py", "robot_pb2_grpc.py"):
        fresh = (tmp_path / "fleetrl/hardware/server" / name).read_text()
        checked_in = (SERVER_DIR / name).read_text()
        assert fresh == checked_in, f"{name} is stale: run `make proto` after editing robot.proto"
