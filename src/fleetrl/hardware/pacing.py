"""Keeping a control loop on the wall clock, and measuring how well it kept time."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RateReport:
    """How a paced loop kept time: achieved rate (Hz) and step-period jitter (ms).

    Jitter is the deviation of each measured period from the target period; p99 is of its
    absolute value.
    """

    target_hz: float
    achieved_hz: float
    steps: int
    jitter_ms_p50: float
    jitter_ms_p99: float
    jitter_ms_max: float

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


class Pacer:
    """Sleeps so that successive `wait()` calls return on a fixed grid of `period_s` seconds.

    The grid is anchored at `restart()` (the first `wait()` then returns one period later) or,
    without one, at the first `wait()` (which then returns at once); a loop that falls behind by
    more than one period re-anchors instead of bursting to catch up, as a real controller would.
    Records every period it measured, for `report()`.
    """

    def __init__(self, rate_hz: float, clock=time.perf_counter, sleep=time.sleep) -> None:
        if rate_hz <= 0:
            raise ValueError("rate_hz must be positive")
        self.rate_hz = rate_hz
        self.period_s = 1.0 / rate_hz
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._last: float | None = None
        self._periods: list[float] = []

    def restart(self) -> None:
        """Start a new grid now (for example after a reset, which takes longer than a period)."""
        now = self._clock()
        self._next = now + self.period_s
        self._last = now

    def wait(self) -> None:
        now = self._clock()
        if self._next is None:
            self._next = now + self.period_s
            self._last = now
            return
        remaining = self._next - now
        if remaining > 0:
            self._sleep(remaining)
            now = self._clock()
        if now - self._next > self.period_s:
            self._next = now  # fell behind by a whole period: re-anchor
        self._next += self.period_s
        assert self._last is not None
        self._periods.append(now - self._last)
        self._last = now

    def report(self) -> RateReport:
        periods = np.asarray(self._periods, dtype=np.float64)
        if periods.size == 0:
            return RateReport(self.rate_hz, 0.0, 0, 0.0, 0.0, 0.0)
        jitter_ms = np.abs(periods - self.period_s) * 1000.0
        return RateReport(
            target_hz=self.rate_hz,
            achieved_hz=float(1.0 / periods.mean()),
            steps=int(periods.size),
            jitter_ms_p50=float(np.percentile(jitter_ms, 50)),
            jitter_ms_p99=float(np.percentile(jitter_ms, 99)),
            jitter_ms_max=float(jitter_ms.max()),
        )
