"""Versioned weights: the publisher (scheme) and the local store (transport)."""

import threading
import time

import numpy as np
import pytest
import torch

from fleetrl.comm.weights import LocalWeightStore, WeightPublisher, payload_to_weights, weights_to_payload
from fleetrl.core.errors import ChannelTimeout


def policy_weights(value: float) -> dict:
    return {
        "actor.weight": torch.full((4, 3), value),
        "actor.bias": torch.full((4,), value, requires_grad=True),
        "encoder": {"conv.weight": torch.full((2, 2), value, dtype=torch.float64)},
        "steps": torch.tensor(7, dtype=torch.int64),
    }


def test_versions_increase_and_the_newest_wins():
    store = LocalWeightStore()
    publisher = WeightPublisher(store)
    assert store.latest(newer_than=0) is None
    versions = [publisher.publish(policy_weights(float(i))) for i in range(3)]
    assert versions == [1, 2, 3] and store.version == 3
    version, weights = store.latest(newer_than=0)
    assert version == 3 and torch.equal(weights["actor.weight"], torch.full((4, 3), 2.0))
    assert store.latest(newer_than=3) is None
    assert not store.publish(2, weights_to_payload(policy_weights(9.0)))  # a late, older version is dropped
    assert store.latest(newer_than=2)[0] == 3


def test_payload_is_numpy_and_decodes_to_the_original_tensors():
    weights = policy_weights(1.5)
    payload = weights_to_payload(weights)
    assert isinstance(payload.arrays["actor.weight"], np.ndarray)
    assert isinstance(payload.arrays["encoder"]["conv.weight"], np.ndarray)
    back = payload_to_weights(payload)
    for key in ("actor.weight", "actor.bias", "steps"):
        assert back[key].dtype == weights[key].dtype and torch.equal(back[key], weights[key].detach())
    assert back["encoder"]["conv.weight"].dtype == torch.float64
    assert not back["actor.bias"].requires_grad


def test_float16_halves_the_bytes_and_restores_dtypes():
    weights = {"w": torch.linspace(-1, 1, 1000)}
    full = weights_to_payload(weights)
    half = weights_to_payload(weights, dtype="float16")
    assert half.arrays["w"].dtype == np.float16 and half.nbytes * 2 == full.nbytes
    back = payload_to_weights(half)["w"]
    assert back.dtype == torch.float32 and torch.allclose(back, weights["w"], atol=1e-3)
    with pytest.raises(ValueError, match="dtype"):
        WeightPublisher(LocalWeightStore(), dtype="bfloat8")


def test_published_weights_do_not_alias_the_learner_tensors():
    store = LocalWeightStore()
    weights = {"w": torch.zeros(3)}
    WeightPublisher(store).publish(weights)
    weights["w"] += 1.0  # the learner keeps training
    assert torch.equal(store.latest(newer_than=0)[1]["w"], torch.zeros(3))


def test_wait_newer_returns_when_published_and_times_out_at_its_deadline():
    store = LocalWeightStore()
    publisher = WeightPublisher(store)
    started = time.monotonic()
    with pytest.raises(ChannelTimeout, match="newer than version 0"):
        store.wait_newer(newer_than=0, timeout_s=0.15)
    assert 0.14 <= time.monotonic() - started < 1.0

    timer = threading.Timer(0.1, lambda: publisher.publish(policy_weights(1.0)))
    timer.start()
    try:
        version, weights = store.wait_newer(newer_than=0, timeout_s=5.0)
    finally:
        timer.cancel()
    assert version == 1 and weights["steps"].item() == 7


def test_publisher_resumes_version_numbering_from_its_state():
    store = LocalWeightStore()
    first = WeightPublisher(store)
    first.publish(policy_weights(0.0))
    first.publish(policy_weights(0.0))
    resumed = WeightPublisher(store)
    resumed.load_state_dict(first.state_dict())
    assert resumed.publish(policy_weights(1.0)) == 3 and store.version == 3
