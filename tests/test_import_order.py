"""The import order of the README's Architecture section, enforced: `lint-imports` reads the
contracts in pyproject.toml ([tool.importlinter]) and fails on an import that runs the wrong way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path, src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_package_keeps_its_import_contracts():
    result = _lint_imports(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_a_wrong_way_import_breaks_the_contract(tmp_path):
    """The contract is not vacuous: a buffer module importing the runtime fails it, named."""
    shutil.copytree(ROOT / "src" / "fleetrl", tmp_path / "src" / "fleetrl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    storage = tmp_path / "src" / "fleetrl" / "buffer" / "storage.py"
    storage.write_text(storage.read_text() + "\nfrom fleetrl.runtime.config import RunConfig  # the wrong way\n")
    result = _lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "fleetrl.buffer.storage -> fleetrl.runtime.config" in result.stdout
