"""Keeping acting and learning in proportion: the update-to-data ratio across threads or workers.

    limiter = UpdateRateLimiter(utd_ratio=1.0, learning_starts=1000, max_env_steps_ahead=5000)
    # env side                                     # learner side
    limiter.add_env_steps(len(chunk))              if limiter.wait_for_learner_turn(timeout_s=1.0):
    if not limiter.actor_may_step(): ...               algorithm.update(buffer.sample)
                                                       limiter.add_updates(1)

An "update" is whatever the caller counts (a learner step); `utd_ratio` is updates per env step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class UpdateRateLimiter:
    """Thread-safe counters of env steps and learner updates, and the rules that relate them.

    The learner may update while updates < utd_ratio * (env_steps - learning_starts). The actors
    may step while env_steps <= learning_starts + updates / utd_ratio + max_env_steps_ahead, that
    is, while they are at most `max_env_steps_ahead` steps beyond what the learner has consumed
    (None: actors are never throttled, as robots on their own clock must not be).
    """

    def __init__(self, utd_ratio: float, learning_starts: int, max_env_steps_ahead: int | None = None) -> None:
        if utd_ratio <= 0:
            raise ValueError(f"utd_ratio must be positive, got {utd_ratio}")
        if max_env_steps_ahead is not None and max_env_steps_ahead < 0:
            raise ValueError(f"max_env_steps_ahead must be non-negative, got {max_env_steps_ahead}")
        self.utd_ratio = utd_ratio
        self.learning_starts = learning_starts
        self.max_env_steps_ahead = max_env_steps_ahead
        self.env_steps = 0
        self.updates = 0
        self._closed = False
        self._cond = threading.Condition()

    def add_env_steps(self, n: int = 1) -> None:
        with self._cond:
            self.env_steps += n
            self._cond.notify_all()

    def add_updates(self, n: int = 1) -> None:
        with self._cond:
            self.updates += n
            self._cond.notify_all()

    def _learner_may_update(self) -> bool:
        return self.updates < self.utd_ratio * (self.env_steps - self.learning_starts)

    def _actor_may_step(self) -> bool:
        if self.max_env_steps_ahead is None:
            return True
        consumed = self.learning_starts + self.updates / self.utd_ratio
        return self.env_steps - consumed <= self.max_env_steps_ahead

    def learner_may_update(self) -> bool:
        with self._cond:
            return self._learner_may_update()

    def actor_may_step(self) -> bool:
        with self._cond:
            return self._actor_may_step()

    def _wait(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not ready():
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def wait_for_learner_turn(self, timeout_s: float) -> bool:
        """Block until the learner may update (True), or the deadline passes or `close()` (False)."""
        return self._wait(self._learner_may_update, timeout_s)

    def wait_for_actor_turn(self, timeout_s: float) -> bool:
        """Block until the actors may step (True), or the deadline passes or `close()` (False)."""
        return self._wait(self._actor_may_step, timeout_s)

    def close(self) -> None:
        """Wake every waiter; waits that are not satisfied return False from now on."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def state_dict(self) -> dict:
        with self._cond:
            return {"env_steps": self.env_steps, "updates": self.updates}

    def load_state_dict(self, state: Mapping) -> None:
        with self._cond:
            self.env_steps, self.updates = int(state["env_steps"]), int(state["updates"])
            self._cond.notify_all()
