"""Samplers: uniform and RLPD's symmetric mix."""

import numpy as np
import pytest

from fleetrl.buffer.samplers import MixedSampler, UniformSampler


def test_uniform_sampler_covers_every_storage_in_proportion():
    sampler = UniformSampler(seed=0)
    online, demo = sampler.sample([300, 100], 4000)
    assert len(online) + len(demo) == 4000
    assert 0.2 < len(demo) / 4000 < 0.3
    assert online.max() < 300 and demo.max() < 100 and online.min() >= 0 and demo.min() >= 0


def test_mixed_sampler_takes_the_demo_share_and_falls_back():
    sampler = MixedSampler(demo_ratio=0.25, seed=0)
    online, demo = sampler.sample([1000, 10], 256)
    assert (len(online), len(demo)) == (192, 64)
    assert demo.max() < 10
    assert [len(i) for i in sampler.sample([1000, 0], 256)] == [256, 0]
    assert [len(i) for i in sampler.sample([0, 10], 256)] == [0, 256]
    assert [len(i) for i in sampler.sample([5], 7)] == [7, 0]
    assert sampler.split(100, 100, 3) == (2, 1)  # round(0.75) = 1
    with pytest.raises(ValueError, match="empty"):
        sampler.sample([0, 0], 4)


def test_demo_ratio_one_draws_demonstrations_only_and_never_falls_back_to_online_data():
    sampler = MixedSampler(demo_ratio=1.0, seed=0)
    assert [len(i) for i in sampler.sample([1000, 10], 64)] == [0, 64]
    with pytest.raises(ValueError, match="no demonstration"):
        sampler.sample([1000, 0], 64)
    with pytest.raises(ValueError, match="demo_ratio must lie in"):
        MixedSampler(demo_ratio=1.5)


def test_sampler_state_dict_replays_the_same_draws():
    sampler = MixedSampler(0.5, seed=3)
    state = sampler.state_dict()
    first = sampler.sample([100, 100], 32)
    sampler.load_state_dict(state)
    again = sampler.sample([100, 100], 32)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
