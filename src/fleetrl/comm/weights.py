"""Versioned policy weights, latest wins: a scheme that decides what to send, a transport that moves it.

    store = LocalWeightStore()                       # transport (a Ray one keeps payloads in its object store)
    publisher = WeightPublisher(store, dtype="float16")
    version = publisher.publish(algorithm.policy_weights())          # learner
    found = store.latest(newer_than=policy.version)                  # inference worker, never blocks
    if found is not None:
        policy.load_weights(found[1], found[0])

The payload is plain numpy (optionally float16 to halve the bytes) so that it crosses any
transport without torch pickles; `payload_to_weights` turns it back into the CPU tensors,
in their original dtypes, that `Policy.load_weights` takes. Only the newest version is kept:
a consumer that falls behind skips versions instead of queueing them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fleetrl.core.errors import ChannelTimeout
from fleetrl.core.interfaces import WeightSource

WIRE_DTYPES = {None: None, "float32": np.float32, "float16": np.float16}


@dataclass(frozen=True)
class WeightPayload:
    """Policy weights on the wire: nested dicts of numpy arrays, and the torch dtype of each leaf."""

    arrays: dict[str, Any]
    dtypes: dict[str, Any]

    @property
    def nbytes(self) -> int:
        def count(node) -> int:
            if isinstance(node, Mapping):
                return sum(count(v) for v in node.values())
            return node.nbytes if isinstance(node, np.ndarray) else 0

        return count(self.arrays)


def _to_wire(node, wire_dtype) -> tuple[Any, Any]:
    if isinstance(node, Mapping):
        pairs = {key: _to_wire(value, wire_dtype) for key, value in node.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    if isinstance(node, torch.Tensor):
        array = node.detach().cpu().numpy().copy()
        if wire_dtype is not None and node.is_floating_point():
            array = array.astype(wire_dtype)
        return array, str(node.dtype).removeprefix("torch.")
    return node, None  # a plain value (int, float, str) travels as it is


def weights_to_payload(weights: Mapping[str, Any], dtype: str | None = None) -> WeightPayload:
    """Tensors (possibly in nested dicts) -> numpy payload; floats cast to `dtype` if given."""
    if dtype not in WIRE_DTYPES:
        raise ValueError(f"dtype must be one of {list(WIRE_DTYPES)}, got {dtype!r}")
    arrays, dtypes = _to_wire(weights, WIRE_DTYPES[dtype])
    return WeightPayload(arrays, dtypes)


def _from_wire(node, dtype) -> Any:
    if isinstance(node, Mapping):
        return {key: _from_wire(value, dtype[key]) for key, value in node.items()}
    if isinstance(node, np.ndarray):
        tensor = torch.from_numpy(node.copy())
        return tensor.to(getattr(torch, dtype)) if dtype else tensor
    return node


def payload_to_weights(payload: WeightPayload) -> dict[str, Any]:
    """The CPU tensors (original dtypes, fresh memory) a `Policy.load_weights` takes."""
    return _from_wire(payload.arrays, payload.dtypes)


class LocalWeightStore(WeightSource):
    """The in-process transport: holds the newest (version, payload); thread-safe.

    `publish` ignores a version not newer than the one held (latest wins). `latest` never blocks;
    `wait_newer` blocks up to a deadline. Both decode to tensors; `latest_payload` does not.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = -1
        self._payload: WeightPayload | None = None

    def publish(self, version: int, payload: WeightPayload) -> bool:
        """Offer `payload` as `version`; True if it became the newest."""
        with self._cond:
            if version <= self._version:
                return False
            self._version, self._payload = version, payload
            self._cond.notify_all()
            return True

    @property
    def version(self) -> int:
        """The newest version held (-1 before the first publish)."""
        return self._version

    def latest_payload(self, newer_than: int) -> tuple[int, WeightPayload] | None:
        """(version, payload) if newer than `newer_than`, else None. Never blocks."""
        with self._cond:
            if self._payload is None or self._version <= newer_than:
                return None
            return self._version, self._payload

    def latest(self, newer_than: int) -> tuple[int, dict] | None:
        found = self.latest_payload(newer_than)
        return None if found is None else (found[0], payload_to_weights(found[1]))

    def wait_newer(self, newer_than: int, timeout_s: float) -> tuple[int, dict]:
        """Wait for a version newer than `newer_than`; ChannelTimeout when none came by the deadline."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._payload is None or self._version <= newer_than:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ChannelTimeout(f"no weights newer than version {newer_than} within {timeout_s:.3g} s")
                self._cond.wait(remaining)
            version, payload = self._version, self._payload
        return version, payload_to_weights(payload)


class WeightPublisher:
    """The scheme: turns `Algorithm.policy_weights()` into payloads with increasing versions.

    Versions start at 1 (0 is a policy's initial weights). `dtype="float16"` halves the bytes of
    floating tensors; `payload_to_weights` restores their dtype. `transport` is anything with
    `publish(version, payload)` (`LocalWeightStore`, or a Ray-backed store).
    """

    def __init__(self, transport, dtype: str | None = None) -> None:
        if dtype not in WIRE_DTYPES:
            raise ValueError(f"dtype must be one of {list(WIRE_DTYPES)}, got {dtype!r}")
        self.transport = transport
        self.dtype = dtype
        self.version = 0  # the last version published
        self.last_nbytes = 0

    def publish(self, weights: Mapping[str, Any]) -> int:
        """Convert and send `weights` as the next version; returns that version."""
        payload = weights_to_payload(weights, self.dtype)
        self.version += 1
        self.transport.publish(self.version, payload)
        self.last_nbytes = payload.nbytes
        return self.version

    def state_dict(self) -> dict:
        return {"version": self.version}

    def load_state_dict(self, state: Mapping) -> None:
        """Resume numbering after a restart so that versions keep increasing."""
        self.version = int(state["version"])
