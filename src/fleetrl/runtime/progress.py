"""A live view of a training run for people, and a one-line summary for logs.

    with LiveProgress(total_env_steps=100_000, max_wall_time_s=1200, worker_names=names) as view:
        while training:
            view.update(snapshot)          # cheap; call as often as you like

On a terminal: a progress bar over env steps and a table of workers and the learner, redrawn in
place. Everywhere (terminal or not): every `log_every_s` one plain summary line, so CI logs and
`nohup` files show progress too; when stdout is not a terminal the live view is not drawn at all,
so files get no cursor codes.

A snapshot is a dict; every key is optional:
    env_steps, episodes (int); success_rate (float, recent training episodes)
    updates (int), updates_per_s, env_steps_per_s (float), policy_version (int)
    staleness_mean (float), staleness_max (int): policy versions behind, of recent transitions
    buffer_size (int); eval_success_rate, eval_return_mean (float); eval_env_steps (int)
    workers: {name: {"state": "acting"|"waiting"|"restarting"|"down", "env_steps", "episodes",
              "success_rate"}}
"""

from __future__ import annotations

import math
import time
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

WORKER_STATES = {"acting": "green", "waiting": "yellow", "restarting": "magenta", "down": "red"}


class LiveProgress:
    """Shows training progress; a context manager (the live view runs between enter and exit).

    `console` defaults to one on stdout. `clock` (seconds, monotonic) is injectable for tests.
    """

    def __init__(
        self,
        total_env_steps: int,
        max_wall_time_s: float,
        worker_names: list[str],
        log_every_s: float = 5.0,
        console: Console | None = None,
        clock=time.monotonic,
        metric_names: tuple[str, ...] = (),
    ) -> None:
        """`metric_names`: the learner's own figures to show (the algorithm's `needs().metric_names`)."""
        self.total_env_steps = int(total_env_steps)
        self.max_wall_time_s = float(max_wall_time_s)
        self.worker_names = list(worker_names)
        self.metric_names = tuple(metric_names)
        self.log_every_s = float(log_every_s)
        self.console = console or Console()
        self._clock = clock
        self._start = clock()
        self._last_line: float | None = None
        self.snapshot: dict[str, Any] = {}
        self._bar = Progress(
            TextColumn("[bold]env steps"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.percentage:>5.1f}%"), TimeElapsedColumn(),
            TextColumn("of {task.fields[budget]}"), console=self.console,
        )
        self._task = self._bar.add_task("env steps", total=self.total_env_steps, budget=_duration(self.max_wall_time_s))
        self._live: Live | None = None

    @property
    def interactive(self) -> bool:
        """True when the live view is drawn (a real, non-dumb terminal)."""
        return self.console.is_terminal and not self.console.is_dumb_terminal

    def __enter__(self) -> LiveProgress:
        self._start = self._clock()
        if self.interactive:
            self._live = Live(self._renderable(), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self._renderable(), refresh=True)
            self._live.__exit__(exc_type, exc, tb)
            self._live = None
        self._print_line()

    def update(self, snapshot: dict[str, Any]) -> None:
        """Show `snapshot` (see the module docstring); prints the summary line when it is due."""
        self.snapshot = dict(snapshot)
        self._bar.update(self._task, completed=min(int(snapshot.get("env_steps", 0)), self.total_env_steps))
        if self._live is not None:
            self._live.update(self._renderable())
        now = self._clock()
        if self._last_line is None or now - self._last_line >= self.log_every_s:
            self._print_line()

    def summary_line(self) -> str:
        """One plain line describing the latest snapshot."""
        s = self.snapshot
        elapsed = self._clock() - self._start
        steps = int(s.get("env_steps", 0))
        parts = [
            f"[{_duration(elapsed)}/{_duration(self.max_wall_time_s)}] "
            f"env steps {steps}/{self.total_env_steps} ({100 * steps / max(self.total_env_steps, 1):.1f}%)",
        ]
        if "env_steps_per_s" in s:
            parts.append(f"{_num(s['env_steps_per_s'], '.0f')} steps/s")
        if "episodes" in s:
            parts.append(f"episodes {s['episodes']} success {_num(s.get('success_rate'), '.2f')}")
        if "intervention_rate" in s:
            parts.append(f"taken over {_num(100 * s['intervention_rate'], '.0f')}% of steps "
                         f"({_num(s.get('interventions_per_robot_hour'), '.0f')}/robot-h)")
        if "updates" in s:
            parts.append(f"updates {s['updates']} ({_num(s.get('updates_per_s'), '.1f')}/s)")
        if "policy_version" in s:
            parts.append(f"policy v{s['policy_version']}")
        if "staleness_mean" in s or "staleness_max" in s:
            parts.append(f"staleness {_num(s.get('staleness_mean'), '.1f')}/{_num(s.get('staleness_max'), '.0f')}")
        if "buffer_size" in s:
            parts.append(f"buffer {s['buffer_size']}")
        losses = self._metrics_text()
        if losses:
            parts.append(losses)
        if "eval_success_rate" in s:
            parts.append(f"eval success {_num(s['eval_success_rate'], '.2f')}")
        workers = s.get("workers") or {}
        if workers:
            counts: dict[str, int] = {}
            for info in workers.values():
                state = str(info.get("state", "?"))
                counts[state] = counts.get(state, 0) + 1
            parts.append("workers " + ", ".join(f"{n} {state}" for state, n in counts.items()))
        return " | ".join(parts)

    def _print_line(self) -> None:
        self._last_line = self._clock()
        self.console.print(self.summary_line(), markup=False, highlight=False, soft_wrap=True)

    def _renderable(self) -> Group:
        return Group(self._bar, self._workers_table(), self._learner_table())

    def _workers_table(self) -> Table:
        table = Table(title=None, box=None, pad_edge=False, header_style="bold")
        for column in ("worker", "state", "env steps", "episodes", "success"):
            table.add_column(column, justify="left" if column in ("worker", "state") else "right")
        workers = self.snapshot.get("workers") or {}
        for name in self.worker_names or list(workers):
            info = workers.get(name, {})
            state = str(info.get("state", "-"))
            colour = WORKER_STATES.get(state, "dim")
            table.add_row(name, f"[{colour}]{state}[/]", str(info.get("env_steps", "-")),
                          str(info.get("episodes", "-")), _num(info.get("success_rate"), ".2f"))
        return table

    def _learner_table(self) -> Table:
        s = self.snapshot
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        table.add_row("learner", f"{s.get('updates', '-')} updates ({_num(s.get('updates_per_s'), '.1f')}/s), "
                                 f"policy v{s.get('policy_version', '-')}")
        table.add_row("staleness", f"mean {_num(s.get('staleness_mean'), '.1f')}, max {_num(s.get('staleness_max'), '.0f')}")
        buffer = str(s.get("buffer_size", "-"))
        if s.get("buffer_cache_hit_rate") is not None:
            buffer += f" (batches from memory {_num(100 * s['buffer_cache_hit_rate'], '.0f')}%)"
        table.add_row("buffer", buffer)
        if self.metric_names:
            table.add_row("learning", self._metrics_text() or "-")
        last_eval = "-"
        if s.get("eval_success_rate") is not None:
            last_eval = f"success {_num(s['eval_success_rate'], '.2f')}, return {_num(s.get('eval_return_mean'), '.2f')}"
            if s.get("eval_env_steps") is not None:
                last_eval += f" at {s['eval_env_steps']} env steps"
        table.add_row("last eval", last_eval)
        return table


    def _metrics_text(self) -> str:
        """The algorithm's figures that the snapshot holds, e.g. "critic_loss 0.12 actor_loss -3.1"."""
        shown = [f"{name} {_num(self.snapshot[name], '.3g')}" for name in self.metric_names if name in self.snapshot]
        return " ".join(shown)


def _num(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    try:
        return format(value, fmt)
    except (TypeError, ValueError):
        return str(value)


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
