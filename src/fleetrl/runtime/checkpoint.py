"""Checkpoints that survive a kill at any moment.

    save_checkpoint(run, f"step{env_steps}", state)      # durable when it returns
    state = load_latest_checkpoint(run)                  # None for a run without one

Each checkpoint is `checkpoints/ckpt-<seq>-<tag>.pt`, `seq` counting up so the newest is the
highest. It is written to a temporary file in the same folder, flushed and fsynced, renamed into
place (`os.replace`, atomic) and the folder fsynced; only then is the `latest` pointer file
updated (atomically too) and the oldest checkpoints beyond `keep` deleted. A kill mid-write
therefore leaves the previous checkpoints untouched, and a corrupt newest file (a disk that lied
about fsync, a hand-truncated file) is skipped on load with a warning.

The state is whatever the trainer saves (algorithm state_dict, counters, RNG states, rate limiter,
optionally the buffer, and "policy_weights" for evaluation); tensors are loaded onto the CPU.
Checkpoints are pickles: load only run folders you trust.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import torch

from fleetrl.core.files import fsync_dir, write_text_atomic
from fleetrl.runtime.run_dir import CHECKPOINT_GLOB, RunDir

log = logging.getLogger(__name__)

LATEST_FILE = "latest"
_NAME = re.compile(r"^ckpt-(\d+)(?:-[A-Za-z0-9_.-]*)?\.pt$")
_UNSAFE_TAG = re.compile(r"[^A-Za-z0-9_.-]+")


def _folder(run_dir: RunDir | str | Path) -> Path:
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    return run.checkpoints


def list_checkpoints(run_dir: RunDir | str | Path) -> list[Path]:
    """The run's checkpoint files, oldest first."""
    folder = _folder(run_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(CHECKPOINT_GLOB):
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def save_checkpoint(run_dir: RunDir | str | Path, step_tag: str | int, state: dict, keep: int = 3) -> Path:
    """Write `state` durably as the newest checkpoint, point `latest` at it, keep the newest `keep`.

    `step_tag` (e.g. the env step count) goes into the file name for people; order comes from a
    sequence number. Returns the checkpoint's path. If writing fails (disk full, an exception in
    pickling, a kill) the earlier checkpoints and the pointer are left as they were.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    folder = _folder(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    existing = list_checkpoints(run_dir)
    seq = int(_NAME.match(existing[-1].name).group(1)) + 1 if existing else 1
    tag = _UNSAFE_TAG.sub("_", str(step_tag)).strip("_")
    path = folder / (f"ckpt-{seq:06d}-{tag}.pt" if tag else f"ckpt-{seq:06d}.pt")
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(folder)
    write_text_atomic(folder / LATEST_FILE, path.name + "\n")
    _prune(list_checkpoints(run_dir), keep)
    fsync_dir(folder)
    return path


def _prune(checkpoints: list[Path], keep: int) -> None:
    for old in checkpoints[:-keep]:
        try:
            old.unlink()
        except OSError as err:  # a failed cleanup must not fail the run
            log.warning("could not delete old checkpoint %s: %s", old, err)


def latest_pointer(run_dir: RunDir | str | Path) -> Path | None:
    """The checkpoint the `latest` file names, when it names one that exists."""
    folder = _folder(run_dir)
    try:
        name = (folder / LATEST_FILE).read_text().strip()
    except OSError:
        return None
    path = folder / name
    return path if name and _NAME.match(name) and path.is_file() else None


def load_checkpoint(path: str | Path) -> dict:
    """Load one checkpoint file onto the CPU. Raises whatever torch raises for a damaged file."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a dict, found {type(state).__name__}")
    return state


def load_latest_checkpoint(run_dir: RunDir | str | Path) -> dict | None:
    """The newest checkpoint that loads, or None when there is none.

    Starts from the newest file (normally the one `latest` names; newer only if a kill came
    between the rename and the pointer update) and falls back to older ones, with a warning for
    each file that is corrupt or partial.
    """
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return load_checkpoint(path)
        except Exception as err:  # a damaged file can fail in many ways inside torch/zip/pickle
            log.warning("skipping corrupt checkpoint %s (%s: %s); trying the previous one",
                        path, type(err).__name__, err)
    return None
