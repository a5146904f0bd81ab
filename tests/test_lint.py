"""Code rules that `make test` enforces: ruff's lint rules (pyproject.toml [tool.ruff]) and the
module size STYLE.md asks for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 500
GENERATED = {"robot_pb2.py", "robot_pb2_grpc.py"}  # protoc output (make proto)


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "src", "tests"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_over_500_lines():
    sizes = {
        path.relative_to(ROOT): len(path.read_text().splitlines())
        for path in (ROOT / "src").rglob("*.py")
        if path.name not in GENERATED
    }
    assert sizes, "no modules found"
    too_long = {str(path): n for path, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"
