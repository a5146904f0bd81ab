"""Versioned policy weights, latest wins: a scheme that decides what to send, a transport that moves it.

    publisher = WeightPublisher(links, dtype="float16")       # links: the transport (Ray's object store)
    version = publisher.publish(algorithm.policy_weights())          # learner
    policy.load_weights(payload_to_weights(payload), version)        # inference worker

The payload is plain numpy (optionally float16 to halve the bytes) so that it crosses any
transport without torch pickles; `payload_to_weights` turns it back into the CPU tensors,
in their original dtypes, that `Policy.load_weights` takes. Only the newest version is kept:
a consumer that falls behind skips versions instead of queueing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

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


class WeightPublisher:
    """The scheme: turns `Algorithm.policy_weights()` into payloads with increasing versions.

    Versions start at 1 (0 is a policy's initial weights). `dtype="float16"` halves the bytes of
    floating tensors; `payload_to_weights` restores their dtype. `transport` is anything with
    `publish(version, payload)` (the learner's `LearnerLinks`).
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
