import io
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from fleetrl.algorithms.sac import SACConfig, SACLearner
from fleetrl.policies import GaussianPolicyConfig, TorchPolicy

STATE = gym.spaces.Box(-np.inf, np.inf, (6,), np.float32)
ACTIONS = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
PIXELS = gym.spaces.Dict(
    {
        "state": gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
        "scene": gym.spaces.Box(0, 255, (16, 16, 3), np.uint8),
        "wrist": gym.spaces.Box(0, 255, (12, 12, 3), np.uint8),
    }
)
SMALL_MLP = GaussianPolicyConfig(hidden_sizes=(32, 32))
SMALL_CNN = GaussianPolicyConfig(
    type="cnn", hidden_sizes=(32, 32), cnn_channels=(8, 8), cnn_strides=(2, 1), cnn_latent_dim=8, augment_pad=2
)


def random_sampler(space: gym.spaces.Space, action_dim: int, seed: int):
    """sample(batch_size) -> a batch of random transitions, reproducible from `seed`."""
    rng = np.random.default_rng(seed)

    def obs(n):
        if isinstance(space, gym.spaces.Dict):
            return {key: obs_of(sub, n) for key, sub in space.spaces.items()}
        return obs_of(space, n)

    def obs_of(sub, n):
        if sub.dtype == np.uint8:
            return rng.integers(0, 256, (n, *sub.shape), dtype=np.uint8)
        return rng.normal(size=(n, *sub.shape)).astype(np.float32)

    def sample(n):
        return {
            "obs": obs(n),
            "next_obs": obs(n),
            "action": rng.uniform(-1, 1, (n, action_dim)).astype(np.float32),
            "reward": rng.normal(size=n).astype(np.float32),
            "terminated": (rng.random(n) < 0.1).astype(np.float32),
        }

    return sample


def test_update_counts_batches_and_returns_float_metrics():
    learner = SACLearner(SACConfig(batch_size=16, utd_ratio=3), SMALL_MLP, STATE, ACTIONS)
    sampler = random_sampler(STATE, 2, 0)
    calls = []

    def sample(n):
        calls.append(n)
        return sampler(n)

    metrics = learner.update(sample)
    assert calls == [16, 16, 16]
    assert learner.updates == 1
    for key in ("critic_loss", "actor_loss", "temperature", "q_mean", "entropy", "temperature_loss"):
        assert isinstance(metrics[key], float) and math.isfinite(metrics[key])


def test_target_critics_track_the_online_critics_by_polyak_averaging():
    learner = SACLearner(SACConfig(batch_size=8, tau=0.25), SMALL_MLP, STATE, ACTIONS)
    before = [p.detach().clone() for p in learner.target_critic.parameters()]
    learner.update(random_sampler(STATE, 2, 0))
    for old, target, online in zip(before, learner.target_critic.parameters(), learner.critic.parameters()):
        torch.testing.assert_close(target, 0.75 * old + 0.25 * online)


def test_critic_subsample_runs_with_a_large_ensemble():
    config = SACConfig(batch_size=8, num_critics=10, critic_subsample=2, utd_ratio=2)
    learner = SACLearner(config, SMALL_MLP, STATE, ACTIONS)
    assert learner.critic(torch.zeros(4, 6), torch.zeros(4, 2)).shape == (10, 4)
    assert math.isfinite(learner.update(random_sampler(STATE, 2, 0))["critic_loss"])
    with pytest.raises(ValueError):
        SACConfig(num_critics=2, critic_subsample=3)


def test_temperature_step_direction_and_value():
    config = SACConfig(init_temperature=0.5, temperature_lr=0.1)
    learner = SACLearner(config, SMALL_MLP, STATE, ACTIONS)  # target entropy -2
    # log pi = [-1, -3]: entropy 2 is above the target, so alpha falls. Adam's first step is
    # lr * g / (|g| + eps), i.e. log alpha moves by -0.1.
    metrics = learner._update_temperature(torch.tensor([-1.0, -3.0]))
    assert metrics["temperature"] == pytest.approx(0.5 * math.exp(-0.1), rel=1e-6)
    learner = SACLearner(config, SMALL_MLP, STATE, ACTIONS)
    # log pi = [3, 2]: entropy -2.5 is below the target, so alpha rises by the same factor.
    metrics = learner._update_temperature(torch.tensor([3.0, 2.0]))
    assert metrics["temperature"] == pytest.approx(0.5 * math.exp(0.1), rel=1e-6)


def test_pixels_encoder_is_trained_by_the_critic_only():
    learner = SACLearner(SACConfig(batch_size=8), SMALL_CNN, PIXELS, gym.spaces.Box(-1, 1, (7,), np.float32))
    sample = random_sampler(PIXELS, 7, 0)
    encoder_before = [p.detach().clone() for p in learner.policy.encoder.parameters()]
    learner.update(sample)
    assert any(not torch.equal(a, b) for a, b in zip(encoder_before, learner.policy.encoder.parameters()))

    # An actor step leaves the encoder (and the critics) alone.
    features = learner.policy.encoder(learner._to_torch(sample(8))["obs"]).detach()
    encoder_before = [p.detach().clone() for p in learner.policy.encoder.parameters()]
    critic_before = [p.detach().clone() for p in learner.critic.parameters()]
    learner._update_actor(features)
    assert all(torch.equal(a, b) for a, b in zip(encoder_before, learner.policy.encoder.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(critic_before, learner.critic.parameters()))
    assert all(p.requires_grad for p in learner.critic.parameters())


def test_policy_weights_and_make_policy():
    learner = SACLearner(SACConfig(batch_size=8), SMALL_MLP, STATE, ACTIONS)
    learner.update(random_sampler(STATE, 2, 0))
    policy = learner.make_policy()
    assert isinstance(policy, TorchPolicy) and policy is not learner.policy
    obs = np.linspace(-1, 1, 6, dtype=np.float32)
    np.testing.assert_array_equal(policy.act(obs, deterministic=True), learner.policy.act(obs, deterministic=True))
    weights = learner.policy_weights()
    assert not any(key.startswith("critic") for key in weights)
    learner.update(random_sampler(STATE, 2, 1))
    policy.load_weights(learner.policy_weights(), version=2)
    np.testing.assert_array_equal(policy.act(obs, deterministic=True), learner.policy.act(obs, deterministic=True))


@pytest.mark.parametrize(
    "policy_config, space, action_dim, config",
    [
        (SMALL_MLP, STATE, 2, SACConfig(batch_size=16, num_critics=5, critic_subsample=2, utd_ratio=2)),
        (SMALL_CNN, PIXELS, 7, SACConfig(batch_size=8)),
    ],
)
def test_state_dict_resume_gives_identical_updates(policy_config, space, action_dim, config):
    actions = gym.spaces.Box(-1.0, 1.0, (action_dim,), np.float32)
    learner = SACLearner(config, policy_config, space, actions, seed=0)
    for _ in range(3):
        learner.update(random_sampler(space, action_dim, 100 + learner.updates))
    buffer = io.BytesIO()
    torch.save(learner.state_dict(), buffer)

    continued = [learner.update(random_sampler(space, action_dim, 200 + i)) for i in range(2)]

    buffer.seek(0)
    resumed = SACLearner(config, policy_config, space, actions, seed=123)  # different init, overwritten
    resumed.load_state_dict(torch.load(buffer, weights_only=False))
    assert resumed.updates == 3
    replayed = [resumed.update(random_sampler(space, action_dim, 200 + i)) for i in range(2)]

    assert replayed == continued
    for a, b in zip(learner.state_dict()["critic"].values(), resumed.state_dict()["critic"].values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for key, value in learner.policy_weights().items():
        torch.testing.assert_close(value, resumed.policy_weights()[key], rtol=0, atol=0)
