"""HG-DAgger: the behaviour-cloning update, and a replay that serves expert-labelled steps only."""

import gymnasium as gym
import numpy as np
import pytest

from fleetrl.algorithms.hg_dagger import HGDAggerConfig, HGDAggerLearner
from fleetrl.buffer.build import build_replay
from fleetrl.buffer.config import BufferConfig
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_INTERVENTION, SOURCE_ONLINE
from fleetrl.policies import GaussianPolicyConfig

OBS = gym.spaces.Box(-1, 1, (4,), np.float32)
ACT = gym.spaces.Box(-1, 1, (2,), np.float32)
W = np.array([[0.5, -0.3], [0.2, 0.4], [-0.6, 0.1], [0.3, 0.3]], np.float32)


def expert_batch(rng, n):
    obs = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
    return {"obs": obs, "action": np.tanh(obs @ W)}


@pytest.mark.parametrize("loss", ["mse", "nll"])
def test_behaviour_cloning_learns_the_expert_mapping(loss):
    rng = np.random.default_rng(0)
    learner = HGDAggerLearner(HGDAggerConfig(batch_size=64, lr=3e-3, loss=loss), GaussianPolicyConfig(hidden_sizes=[64, 64]), OBS, ACT)
    first = learner.update(lambda n: expert_batch(rng, n))["bc_action_error"]
    for _ in range(400):
        metrics = learner.update(lambda n: expert_batch(rng, n))
    assert metrics["bc_action_error"] < 0.3 * first
    policy = learner.make_policy()
    test = expert_batch(rng, 200)
    predicted = np.stack([policy.act(o, deterministic=True) for o in test["obs"]])
    assert np.abs(predicted - test["action"]).mean() < 0.05


def test_state_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    data = [expert_batch(rng, 32) for _ in range(6)]
    a = HGDAggerLearner(HGDAggerConfig(batch_size=32), GaussianPolicyConfig(hidden_sizes=[16]), OBS, ACT)
    for batch in data[:3]:
        a.update(lambda n, b=batch: b)
    b = HGDAggerLearner(HGDAggerConfig(batch_size=32), GaussianPolicyConfig(hidden_sizes=[16]), OBS, ACT, seed=5)
    b.load_state_dict(a.state_dict())
    for batch in data[3:]:
        assert a.update(lambda n, x=batch: x) == b.update(lambda n, x=batch: x)


def chunk(source, n=8):
    return {
        "obs": np.full((n, 4), source, np.float32), "next_obs": np.zeros((n, 4), np.float32),
        "action": np.zeros((n, 2), np.float32), "reward": np.zeros(n, np.float32),
        "terminated": np.zeros(n, np.float32), "truncated": np.zeros(n, np.float32),
        "policy_version": np.zeros(n, np.int64), "robot": np.zeros(n, np.int64),
        "source": np.full(n, source, np.int8), "actor": np.zeros(n, np.int8), "success": np.zeros(n, np.float32),
    }


def test_the_expert_only_replay_never_serves_the_policys_own_steps(tmp_path):
    config = BufferConfig(durability="chunk", prefetch_batches=0)
    replay = build_replay(config, seed=0, default_path=tmp_path, expert_only=True)
    try:
        replay.add(chunk(SOURCE_ONLINE))
        with pytest.raises(ValueError, match="no demonstration or intervention"):
            replay.sample(4)
        replay.add(chunk(SOURCE_INTERVENTION))
        replay.add(chunk(SOURCE_DEMO))
        sources = np.concatenate([replay.sample(64)["obs"][:, 0] for _ in range(20)])
        assert set(sources.tolist()) == {float(SOURCE_INTERVENTION), float(SOURCE_DEMO)}
    finally:
        replay.close()


PIXELS = gym.spaces.Dict({
    "state": gym.spaces.Box(-1, 1, (2,), np.float32),
    "scene": gym.spaces.Box(0, 255, (32, 32, 3), np.uint8),
})
SMALL_CNN = GaussianPolicyConfig(type="cnn", hidden_sizes=(64, 64), cnn_channels=(16, 16), cnn_strides=(2, 1),
                         cnn_latent_dim=32, augment_pad=2)


def pixel_expert_batch(rng, n):
    """The expert's action is where a bright square sits in the camera frame: only the image tells."""
    rows, cols = rng.integers(4, 24, n), rng.integers(4, 24, n)
    scene = np.zeros((n, 32, 32, 3), np.uint8)
    for i, (r, c) in enumerate(zip(rows, cols)):
        scene[i, r:r + 5, c:c + 5] = 255
    action = np.stack([(rows - 13.5) / 12.0, (cols - 13.5) / 12.0], axis=1).astype(np.float32)
    state = rng.uniform(-1, 1, (n, 2)).astype(np.float32)  # noise: the answer is not in the state
    return {"obs": {"state": state, "scene": scene}, "action": action}


def test_a_cnn_policy_learns_from_pixels_what_the_expert_did():
    rng = np.random.default_rng(0)
    learner = HGDAggerLearner(HGDAggerConfig(batch_size=64, lr=1e-3), SMALL_CNN, PIXELS, ACT)
    first = learner.update(lambda n: pixel_expert_batch(rng, n))["bc_action_error"]
    for _ in range(300):
        learner.update(lambda n: pixel_expert_batch(rng, n))
    policy = learner.make_policy()
    test = pixel_expert_batch(rng, 100)
    predicted = np.stack([policy.act({k: v[i] for k, v in test["obs"].items()}, deterministic=True) for i in range(100)])
    error = np.abs(predicted - test["action"]).mean()
    assert error < 0.4 * first and error < 0.15, (first, error)
