import gymnasium as gym
import numpy as np
import pytest
import torch

from fleetrl.policies import GaussianPolicyConfig, TorchPolicy, build_policy

STATE = gym.spaces.Box(-np.inf, np.inf, (14,), np.float32)
ACTIONS = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
PIXELS = gym.spaces.Dict(
    {
        "state": gym.spaces.Box(-np.inf, np.inf, (8,), np.float32),
        "scene": gym.spaces.Box(0, 255, (32, 32, 3), np.uint8),
        "wrist": gym.spaces.Box(0, 255, (24, 24, 3), np.uint8),
    }
)
ARM_ACTIONS = gym.spaces.Box(-1.0, 1.0, (7,), np.float32)
SMALL_CNN = GaussianPolicyConfig(type="cnn", hidden_sizes=(32, 32), cnn_channels=(8, 8), cnn_strides=(2, 1), cnn_latent_dim=16)


def test_mlp_policy_act_shapes_and_bounds():
    policy = build_policy(GaussianPolicyConfig(hidden_sizes=(32, 32)), STATE, ACTIONS, seed=0)
    assert isinstance(policy, TorchPolicy) and policy.version == 0
    obs = STATE.sample() * 100.0  # large inputs must still give actions in bounds
    action = policy.act(obs)
    assert action.shape == (4,) and action.dtype == np.float32
    assert np.all(np.abs(action) <= 1.0)
    np.testing.assert_array_equal(policy.act(obs, deterministic=True), policy.act(obs, deterministic=True))
    batch = policy.act_batch(np.stack([STATE.sample() for _ in range(5)]))
    assert batch.shape == (5, 4) and batch.dtype == np.float32 and np.all(np.abs(batch) <= 1.0)


def test_cnn_policy_act_shapes_and_bounds():
    policy = build_policy(SMALL_CNN, PIXELS, ARM_ACTIONS, seed=0)
    assert policy.encoder.image_keys == ["scene", "wrist"]
    assert policy.encoder.feature_dim == 8 + 2 * 16
    obs = PIXELS.sample()
    action = policy.act(obs)
    assert action.shape == (7,) and action.dtype == np.float32 and np.all(np.abs(action) <= 1.0)
    batch = {key: np.stack([value] * 3) for key, value in obs.items()}
    det = policy.act_batch(batch, deterministic=True)
    assert det.shape == (3, 7)
    np.testing.assert_allclose(det[0], det[2], atol=1e-6)


def test_stochastic_actions_are_seeded():
    obs = np.ones(14, np.float32)
    a = build_policy(GaussianPolicyConfig(), STATE, ACTIONS, seed=3)
    b = build_policy(GaussianPolicyConfig(), STATE, ACTIONS, seed=3)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    assert not np.array_equal(a.act(obs), a.act(obs))


@pytest.mark.parametrize("config, space, actions", [(GaussianPolicyConfig(), STATE, ACTIONS), (SMALL_CNN, PIXELS, ARM_ACTIONS)])
def test_weights_round_trip_gives_identical_actions(config, space, actions):
    source = build_policy(config, space, actions, seed=0)
    target = build_policy(config, space, actions, seed=1)
    obs = space.sample()
    assert not np.array_equal(source.act(obs, deterministic=True), target.act(obs, deterministic=True))

    weights = source.weights()
    assert all(key.startswith(("encoder.", "actor.")) for key in weights)
    assert all(t.device.type == "cpu" and not t.requires_grad for t in weights.values())
    target.load_weights(weights, version=7)
    assert target.version == 7
    np.testing.assert_array_equal(source.act(obs, deterministic=True), target.act(obs, deterministic=True))

    # weights() hands out copies: changing them leaves the source untouched.
    before = source.act(obs, deterministic=True)
    for tensor in weights.values():
        tensor.add_(1.0)
    np.testing.assert_array_equal(before, source.act(obs, deterministic=True))


def test_load_weights_refuses_a_different_architecture():
    policy = build_policy(GaussianPolicyConfig(hidden_sizes=(32,)), STATE, ACTIONS)
    other = build_policy(GaussianPolicyConfig(hidden_sizes=(64,)), STATE, ACTIONS)
    with pytest.raises(RuntimeError):
        policy.load_weights(other.weights(), 1)


def test_config_that_does_not_fit_the_space_is_refused():
    with pytest.raises(ValueError, match="'mlp' cannot take image"):
        build_policy(GaussianPolicyConfig(type="mlp"), PIXELS, ARM_ACTIONS)
    with pytest.raises(ValueError, match="'cnn' needs a Dict"):
        build_policy(GaussianPolicyConfig(type="cnn"), STATE, ACTIONS)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        build_policy(GaussianPolicyConfig(), STATE, gym.spaces.Box(-2.0, 2.0, (4,), np.float32))
    with pytest.raises(ValueError, match="key 'depth'"):
        space = gym.spaces.Dict({"state": STATE, "depth": gym.spaces.Box(0, 1, (8, 8), np.float32)})
        build_policy(GaussianPolicyConfig(), space, ACTIONS)


def test_policy_config_checks_strides():
    with pytest.raises(ValueError, match="cnn_strides"):
        GaussianPolicyConfig(cnn_channels=(32, 32), cnn_strides=(2, 1, 1))


def test_image_encoder_output_range():
    policy = build_policy(SMALL_CNN, PIXELS, ARM_ACTIONS)
    obs = {key: torch.as_tensor(np.stack([PIXELS[key].sample() for _ in range(4)])) for key in PIXELS.spaces}
    latent = policy.encoder.cameras["scene"](obs["scene"])
    assert latent.shape == (4, 16) and (latent.abs() <= 1.0).all()
