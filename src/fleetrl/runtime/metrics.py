"""Metrics of a run: a JSON-lines file, TensorBoard scalars and a learning-curve PNG.

    with MetricsLogger(run, resume=False) as metrics:
        metrics.log({"wall_time_s": 12.5, "env_steps": 1200, "success_rate": 0.25,
                     "robot_utilisation": {"sim_panda#0": 0.93}, "actor_loss": -3.1})
        metrics.plot_learning_curve()

A record is flat: string keys, values int, float, bool, None, str, or a dict of numbers (one level,
e.g. per robot). The usual fields are wall_time_s, env_steps, updates, episodes, success_rate,
return_mean, eval_success_rate, eval_return_mean, robot_utilisation, staleness_mean,
staleness_max, updates_per_s, env_steps_per_s, plus any algorithm metrics; none is required.
Non-finite numbers are written as null. TensorBoard gets every numeric field at step
`env_steps`, nested ones as `name/key`.
"""

from __future__ import annotations

import json
import logging
import math
import os
from numbers import Number
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from torch.utils.tensorboard import SummaryWriter

from fleetrl.runtime.run_dir import RunDir

log = logging.getLogger(__name__)

# Learning-curve panels: (title, [(field, label)]).
_PANELS = (
    ("success rate", [("success_rate", "training"), ("eval_success_rate", "evaluation")]),
    ("return", [("return_mean", "training"), ("eval_return_mean", "evaluation")]),
)
# Drawn as a third row when a run had interventions (a person or the scripted expert took over).
_INTERVENTION_PANEL = ("share of steps taken over", [("intervention_rate", "training episodes")])


class MetricsLogger:
    """Appends metrics records to `metrics.jsonl` and TensorBoard; draws `learning_curve.png`.

    `resume=False` starts the metrics file over; `resume=True` keeps it and reads its records so
    the learning curve continues (a torn last line from a kill is skipped). Not thread-safe: one
    owner (the trainer's driver loop) logs.
    """

    def __init__(self, run_dir: RunDir | str | Path, resume: bool = False) -> None:
        self.run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
        self.records: list[dict[str, Any]] = read_metrics(self.run.metrics_path) if resume else []
        self._file = open(self.run.metrics_path, "a" if resume else "w")
        if resume and _lacks_final_newline(self.run.metrics_path):
            self._file.write("\n")  # after a torn line, start the next record on its own line
        self._writer = SummaryWriter(log_dir=str(self.run.tensorboard), flush_secs=30)

    def log(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append one record (flushed to disk) and its numeric fields to TensorBoard.

        Returns the record as written (numpy scalars made plain, non-finite numbers None).
        Raises `TypeError` naming the field for a value that is not a number, string or dict of numbers.
        """
        clean = {str(key): _clean_value(key, value) for key, value in record.items()}
        self._file.write(json.dumps(clean, allow_nan=False) + "\n")
        self._file.flush()
        step = clean.get("env_steps")
        step = int(step) if isinstance(step, (int, float)) else len(self.records)
        for tag, value in _scalars(clean):
            self._writer.add_scalar(tag, value, global_step=step)
        self._writer.flush()
        self.records.append(clean)
        return clean

    def last_record(self) -> dict[str, Any] | None:
        """The newest record (after a resume, the last one written before it), or None."""
        return self.records[-1] if self.records else None

    def plot_learning_curve(self) -> Path:
        """Draw success rates and returns against wall time and env steps into learning_curve.png."""
        path = self.run.learning_curve
        figure = learning_curve_figure(self.records, title=self.run.name)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
        try:
            figure.savefig(tmp, dpi=100)
            os.replace(tmp, path)  # an image viewer never sees a half-written file
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
            self._writer.close()

    def __enter__(self) -> MetricsLogger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of a metrics.jsonl file (missing file: none), skipping unreadable lines."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s:%d: skipping a line that is not JSON (torn by a kill?)", path, number)
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def learning_curve_figure(records: list[dict[str, Any]], title: str) -> Figure:
    """A 2x2 figure: success rate (top) and return (bottom) against wall time and env steps, with
    a third row for the intervention rate when the records have one.

    Uses matplotlib's object API (no pyplot), so it renders headless and leaves the global
    backend alone.
    """
    panels = _PANELS
    if any(_is_number(r.get("intervention_rate")) for r in records):
        panels = (*_PANELS, _INTERVENTION_PANEL)
    figure = Figure(figsize=(11, 3.5 * len(panels)), layout="constrained")
    axes = figure.subplots(len(panels), 2, squeeze=False)
    figure.suptitle(title)
    wall = [r.get("wall_time_s") for r in records]
    minutes = max((w for w in wall if isinstance(w, (int, float))), default=0) > 600
    x_axes = (("wall_time_s", "wall time (min)" if minutes else "wall time (s)", 1 / 60 if minutes else 1),
              ("env_steps", "env steps", 1))
    for row, (panel, series) in enumerate(panels):
        for col, (x_key, x_label, scale) in enumerate(x_axes):
            ax = axes[row][col]
            for field, label in series:
                points = [(r[x_key] * scale, r[field]) for r in records
                          if _is_number(r.get(x_key)) and _is_number(r.get(field))]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, marker="o" if len(points) < 30 else None, markersize=3, label=label)
            ax.set_xlabel(x_label)
            ax.set_ylabel(panel)
            ax.grid(alpha=0.3)
            if panel in ("success rate", _INTERVENTION_PANEL[0]):
                ax.set_ylim(-0.05, 1.05)
            if ax.lines:
                ax.legend(loc="best", fontsize="small")
            else:
                ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, alpha=0.5)
    return figure


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _clean_number(key: str, value: Any) -> int | float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:  # numpy / torch scalars
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Number):
        value = float(value)
        return value if math.isfinite(value) else None
    raise TypeError(f"metrics field {key!r}: expected a number, got {type(value).__name__}")


def _clean_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(k): _clean_number(f"{key}.{k}", v) for k, v in value.items()}
    return _clean_number(key, value)


def _scalars(record: dict[str, Any]):
    """(tag, float) for every numeric field; dict fields as `name/key`."""
    for key, value in record.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                if _is_number(item) or isinstance(item, bool):
                    yield f"{key}/{sub}", float(item)
        elif _is_number(value) or isinstance(value, bool):
            yield key, float(value)


def _lacks_final_newline(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except OSError:
        return False
