"""Versioned weights: the publisher (the scheme) over a transport that records what it is given."""

import numpy as np
import pytest
import torch

from fleetrl.comm.weights import WeightPublisher, payload_to_weights, weights_to_payload


class RecordingTransport:
    """The transport side of `LearnerLinks.publish`: keeps every (version, payload) it is handed."""

    def __init__(self) -> None:
        self.sent: list = []

    def publish(self, version: int, payload) -> None:
        self.sent.append((version, payload))

    def newest(self) -> tuple[int, dict]:
        version, payload = self.sent[-1]
        return version, payload_to_weights(payload)


def policy_weights(value: float) -> dict:
    return {
        "actor.weight": torch.full((4, 3), value),
        "actor.bias": torch.full((4,), value, requires_grad=True),
        "encoder": {"conv.weight": torch.full((2, 2), value, dtype=torch.float64)},
        "steps": torch.tensor(7, dtype=torch.int64),
    }


def test_versions_increase_from_one_and_each_payload_carries_its_weights():
    transport = RecordingTransport()
    publisher = WeightPublisher(transport)
    versions = [publisher.publish(policy_weights(float(i))) for i in range(3)]
    assert versions == [1, 2, 3] and [v for v, _ in transport.sent] == [1, 2, 3]
    version, weights = transport.newest()
    assert version == 3 and torch.equal(weights["actor.weight"], torch.full((4, 3), 2.0))
    assert publisher.last_nbytes == transport.sent[-1][1].nbytes > 0


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
        WeightPublisher(RecordingTransport(), dtype="bfloat8")


def test_published_weights_do_not_alias_the_learner_tensors():
    transport = RecordingTransport()
    weights = {"w": torch.zeros(3)}
    WeightPublisher(transport).publish(weights)
    weights["w"] += 1.0  # the learner keeps training
    assert torch.equal(transport.newest()[1]["w"], torch.zeros(3))


def test_publisher_resumes_version_numbering_from_its_state():
    transport = RecordingTransport()
    first = WeightPublisher(transport)
    first.publish(policy_weights(0.0))
    first.publish(policy_weights(0.0))
    resumed = WeightPublisher(transport)
    resumed.load_state_dict(first.state_dict())
    assert resumed.publish(policy_weights(1.0)) == 3 and transport.sent[-1][0] == 3
