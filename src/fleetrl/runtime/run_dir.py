"""A run folder: everything one training run leaves on disk, in one place.

    runs/<name>-<YYYYmmdd-HHMMSS>/
        config.yaml          the resolved run config (every default written out)
        checkpoints/         ckpt-<seq>-<tag>.pt files and a `latest` pointer (see checkpoint.py)
        metrics.jsonl        one JSON object per metrics line (see metrics.py)
        tensorboard/         TensorBoard event files
        learning_curve.png   success rate and return against wall time and env steps

    run = RunDir.create(config)                  # a new run
    run = RunDir.open("runs/pick_cube-20250101-120000")   # resume or evaluate a finished one

A folder is a fleetrl run when it holds `config.yaml` and a `checkpoints/` folder.
"""

from __future__ import annotations

import time
from pathlib import Path

from fleetrl.core.errors import ConfigError
from fleetrl.core.files import write_text_atomic
from fleetrl.runtime.config import RunConfig, dump_run_config, load_run_config

CONFIG_FILE = "config.yaml"
CHECKPOINTS_DIR = "checkpoints"
CHECKPOINT_GLOB = "ckpt-*.pt"
METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"
LEARNING_CURVE_FILE = "learning_curve.png"


class RunDir:
    """The paths of one run folder. `RunDir(path)` only names them; `create` and `open` check.

    `config` is the run's config: the one given to `create`, else read from `config.yaml` on
    first use (a `ConfigError` naming the file when it is missing or invalid).
    """

    def __init__(self, path: str | Path, config: RunConfig | None = None) -> None:
        self.path = Path(path)
        self._config = config

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def name(self) -> str:
        """The folder's name, e.g. `pick_cube-20250101-120000` (used in titles)."""
        return self.path.resolve().name

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS_DIR

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def tensorboard(self) -> Path:
        return self.path / TENSORBOARD_DIR

    @property
    def learning_curve(self) -> Path:
        return self.path / LEARNING_CURVE_FILE

    @property
    def config(self) -> RunConfig:
        if self._config is None:
            self._config = load_run_config(self.config_path)
        return self._config

    def is_run(self) -> bool:
        """True when the folder holds `config.yaml` and `checkpoints/` (it is a fleetrl run)."""
        return self.config_path.is_file() and self.checkpoints.is_dir()

    def has_checkpoint(self) -> bool:
        return self.checkpoints.is_dir() and any(self.checkpoints.glob(CHECKPOINT_GLOB))

    @classmethod
    def create(cls, config: RunConfig, root: str | Path = "runs", path: str | Path | None = None) -> RunDir:
        """Make the folder of a new run and write its resolved `config.yaml`.

        Without `path` the folder is `<root>/<config.name>-<YYYYmmdd-HHMMSS>` (a `-2`, `-3`...
        suffix when two runs start in the same second). A given `path` may be missing, empty, or
        an existing fleetrl run (its config.yaml is rewritten); any other non-empty folder is
        refused with a `ConfigError`, so a run never writes into someone else's files.
        """
        folder = Path(path) if path is not None else _new_run_folder(Path(root), config.name)
        run = cls(folder, config)
        if folder.exists():
            if not folder.is_dir():
                raise ConfigError(f"run folder {folder}: exists and is not a folder")
            if any(folder.iterdir()) and not run.is_run():
                raise ConfigError(
                    f"run folder {folder}: not empty and not a fleetrl run (no {CONFIG_FILE} and "
                    f"{CHECKPOINTS_DIR}/); choose an empty or new folder"
                )
        folder.mkdir(parents=True, exist_ok=True)
        run.checkpoints.mkdir(exist_ok=True)
        run.tensorboard.mkdir(exist_ok=True)
        write_text_atomic(run.config_path, dump_run_config(config))
        return run

    @classmethod
    def open(cls, path: str | Path, require_checkpoint: bool = True) -> RunDir:
        """An existing run folder, for resuming or evaluating it.

        Raises `ConfigError` naming the folder when it is missing, not a fleetrl run, or (with
        `require_checkpoint`) has no checkpoint yet; and naming the file when its config is invalid.
        """
        run = cls(path)
        if not run.path.is_dir():
            raise ConfigError(f"run folder {run.path}: no such folder")
        if not run.is_run():
            raise ConfigError(f"{run.path}: not a fleetrl run folder (expected {CONFIG_FILE} and {CHECKPOINTS_DIR}/)")
        if require_checkpoint and not run.has_checkpoint():
            raise ConfigError(f"run folder {run.path}: has no checkpoint in {CHECKPOINTS_DIR}/")
        run.config  # noqa: B018  (validate config.yaml now, with the file named, not later)
        return run


def _new_run_folder(root: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{name}-{stamp}"
    suffix = 2
    while candidate.exists():
        candidate = root / f"{name}-{stamp}-{suffix}"
        suffix += 1
    return candidate
