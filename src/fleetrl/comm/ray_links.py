"""The Ray transport: how workers reach the hub, the learner and inference workers.

Components call these links as plain objects; only this module (and `fleetrl.runtime.assembly`)
imports Ray. Every wait has a deadline. Chunks to the learner are Ray actor calls with at most
`capacity` in flight per env worker: when the learner falls behind, the sender waits (with a
deadline), which is the channel's backpressure. Weights travel through Ray's object store: the
learner puts a payload once, the hub keeps only a handle to the newest, and each worker fetches it.
"""

from __future__ import annotations

import time
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError

from fleetrl.comm.weights import payload_to_weights
from fleetrl.core.errors import ChannelTimeout, WorkerFailure
from fleetrl.core.messages import Control, WorkerStats


def _get(ref, timeout_s: float, what: str):
    try:
        return ray.get(ref, timeout=timeout_s)
    except GetTimeoutError:
        raise ChannelTimeout(f"{what}: no answer within {timeout_s:.0f} s") from None


class RayEnvLinks:
    """`EnvLinks` over Ray: hub and learner handles, an optional inference worker."""

    def __init__(self, hub, inference, capacity: int, timeout_s: float) -> None:
        self.hub = hub
        self.inference = inference
        self.capacity = capacity
        self.timeout_s = timeout_s
        self.in_flight: list = []
        self.learner_generation, self.learner = self._current_learner()

    def _current_learner(self) -> tuple[int, Any]:
        generation, handle = _get(self.hub.learner.remote(), self.timeout_s, "hub")
        return generation, (handle[0] if handle else None)

    def _await_new_learner(self) -> None:
        """The learner died: drop what was in flight to it and wait (deadline) for its successor."""
        self.in_flight.clear()
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            generation, learner = self._current_learner()
            if generation != self.learner_generation and learner is not None:
                self.learner_generation, self.learner = generation, learner
                return
            time.sleep(0.2)
        raise WorkerFailure(f"the learner is gone and no successor appeared within {self.timeout_s:.0f} s")

    def send_chunk(self, chunk: dict) -> None:
        self.in_flight.append(self.learner.add_chunk.remote(chunk))
        while len(self.in_flight) > self.capacity:
            ready, self.in_flight = ray.wait(self.in_flight, num_returns=1, timeout=self.timeout_s)
            if not ready:
                raise ChannelTimeout(f"the learner took no chunk for {self.timeout_s:.0f} s")
            try:
                ray.get(ready[0])
            except RayActorError:
                self._await_new_learner()

    def drain(self) -> None:
        """Wait until the learner has taken every chunk in flight (one deadline for all). Chunks
        sent to a learner that has died since are gone with it, as in `send_chunk`."""
        if not self.in_flight:
            return
        ready, pending = ray.wait(self.in_flight, num_returns=len(self.in_flight), timeout=self.timeout_s)
        if pending:
            raise ChannelTimeout(f"the learner took {len(pending)} chunk(s) in flight for {self.timeout_s:.0f} s")
        self.in_flight = []
        for ref in ready:
            try:
                ray.get(ref)
            except RayActorError:
                return

    def report(self, stats: WorkerStats) -> Control:
        control: Control = _get(self.hub.report.remote(stats), self.timeout_s, "hub")
        if control.learner_generation != self.learner_generation:
            self.in_flight.clear()
            self.learner_generation, self.learner = self._current_learner()
        return control

    def fetch_weights(self, newer_than: int) -> tuple[int, dict] | None:
        found = _get(self.hub.weights.remote(newer_than), self.timeout_s, "hub")
        if found is None:
            return None
        version, handle = found
        try:
            payload = ray.get(handle[0], timeout=self.timeout_s)
        except (RayError, GetTimeoutError):  # its owner (a dead learner) took it along: next time
            return None
        return version, payload_to_weights(payload)

    def remote_act(self, obs):
        return _get(self.inference.act.remote(obs), self.timeout_s, "inference worker")


class RayLearnerLinks:
    """`LearnerLinks` over Ray: payloads go to the object store, their handle to the hub."""

    def __init__(self, hub, timeout_s: float) -> None:
        self.hub = hub
        self.timeout_s = timeout_s

    def publish(self, version: int, payload) -> None:
        ref = ray.put(payload)
        _get(self.hub.publish.remote(version, [ref]), self.timeout_s, "hub")

    def report(self, updates: int, stats: dict[str, float]) -> bool:
        return _get(self.hub.report_learner.remote(updates, stats), self.timeout_s, "hub")


def ray_weight_fetcher(hub, timeout_s: float):
    """A `fetch(newer_than)` for inference workers: newest weights via the hub, or None."""

    def fetch(newer_than: int) -> tuple[int, dict] | None:
        found = _get(hub.weights.remote(newer_than), timeout_s, "hub")
        if found is None:
            return None
        version, handle = found
        try:
            return version, payload_to_weights(ray.get(handle[0], timeout=timeout_s))
        except (RayError, GetTimeoutError):  # its owner (a dead learner) took it along
            return None

    return fetch
