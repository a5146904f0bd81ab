"""The inference worker: answers env workers with actions from the newest weights it has.

A background thread pulls newer weights into a standby copy of the policy and swaps it in with one
reference assignment, so `act` never waits for a weight transfer (weights change between calls,
never during one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from fleetrl.core.interfaces import Policy

POLL_S = 0.05


class InferenceWorker:
    """`act(obs) -> (action, version)`; `fetch(newer_than)` is the weight source to poll."""

    def __init__(
        self,
        policy_factory: Callable[[], Policy],
        fetch: Callable[[int], tuple[int, dict] | None],
        poll_s: float = POLL_S,
        deterministic: bool = False,
    ) -> None:
        """`deterministic`: act with the mean action (behaviour-cloned policies)."""
        self._factory = policy_factory
        self.deterministic = deterministic
        self._fetch = fetch
        self._active = policy_factory()
        self._stop = threading.Event()
        self.swaps = 0
        self._thread = threading.Thread(target=self._poll, args=(poll_s,), name="weights", daemon=True)
        self._thread.start()

    def act(self, obs) -> tuple[np.ndarray, int]:
        policy = self._active  # one read: a swap during this call does not affect it
        if policy.version == 0:
            return np.zeros(0, dtype=np.float32), 0  # no weights yet: the caller explores
        return policy.act(obs, deterministic=self.deterministic), policy.version

    @property
    def version(self) -> int:
        return self._active.version

    def _poll(self, poll_s: float) -> None:
        while not self._stop.is_set():
            try:
                found = self._fetch(self._active.version)
            except Exception:  # a transient failure of the source: try again next poll
                found = None
            if found is not None:
                standby = self._factory()
                standby.load_weights(found[1], found[0])
                self._active = standby
                self.swaps += 1
            time.sleep(poll_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
