"""Running `fleetrl train` on a config given as a dict, the way a user runs it: a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path


def train_dict(config: dict, folder: Path, timeout: float = 300) -> tuple[subprocess.CompletedProcess, Path]:
    """Write `config` to `folder`/run.json, train it into `folder`/run; (the finished process, run folder)."""
    path = folder / "run.json"  # JSON is YAML
    path.write_text(json.dumps(config))
    run_dir = folder / "run"
    result = subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", "train", str(path), "--run-dir", str(run_dir)],
        capture_output=True, text=True, timeout=timeout, env=dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0"),
    )
    return result, run_dir
