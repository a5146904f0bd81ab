"""Evaluation: episodes on worker 0's environment, success from info, and a run's policy loaded back."""

import gymnasium as gym
import numpy as np
import pytest

from fleetrl.core.errors import ConfigError
from fleetrl.core.interfaces import Policy
from fleetrl.runtime.checkpoint import save_checkpoint
from fleetrl.runtime.config import EnvConfig, parse_run_config
from fleetrl.runtime.evaluate import evaluate_policy, load_policy_from_run, load_run_policy
from fleetrl.runtime.run_dir import RunDir


class CountdownEnv(gym.Env):
    """Ends after `length` steps; succeeds when the summed action is positive; reports via `key`."""

    observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)
    closed = 0

    def __init__(self, length=3, key="success"):
        self.length, self.key = length, key

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.total = 0, 0.0
        self.obs = np.array([(seed or 0) % 2, 0], np.float32)  # the seed's parity, every step
        return self.obs, {}

    def step(self, action):
        self.t += 1
        self.total += float(action[0])
        info = {self.key: self.total > 0} if self.key else {}
        return self.obs, float(action[0]), False, self.t >= self.length, info

    def close(self):
        CountdownEnv.closed += 1


gym.register("fleetrl_test/Countdown-v0", entry_point=CountdownEnv)


class SignPolicy(Policy):
    """A stand-in: +1 in episodes with an even seed, -1 otherwise; records its calls."""

    def __init__(self):
        self.calls = []
        self.loaded = None

    def act(self, obs, deterministic=False):
        self.calls.append(deterministic)
        return np.array([1.0 if obs[0] == 0 else -1.0], np.float32)

    def act_batch(self, obs, deterministic=False):
        return np.stack([self.act(o, deterministic) for o in obs])

    def weights(self):
        return {"w": np.ones(1)}

    def load_weights(self, weights, version):
        self.loaded, self.version = weights, version


def test_evaluate_reports_success_return_and_length_per_episode():
    seen = []
    policy = SignPolicy()
    before = CountdownEnv.closed
    report = evaluate_policy(policy, EnvConfig(id="fleetrl_test/Countdown-v0"), episodes=4, seed=10,
                             on_episode=lambda i, r: seen.append((i, r)))
    assert report["episodes"] == 4
    assert report["successes"] == [True, False, True, False]  # seeds 10, 11, 12, 13
    assert report["returns"] == [3.0, -3.0, 3.0, -3.0]
    assert report["success_rate"] == 0.5 and report["mean_return"] == 0.0 and report["mean_length"] == 3.0
    assert [i for i, _ in seen] == [0, 1, 2, 3] and seen[0][1] == {"success": True, "return": 3.0, "length": 3}
    assert set(policy.calls) == {True}
    assert CountdownEnv.closed == before + 1


@pytest.mark.parametrize(("key", "expected"), [("is_success", 1.0), (None, 0.0)])
def test_success_falls_back_to_is_success_then_false(key, expected):
    config = EnvConfig(id="fleetrl_test/Countdown-v0", kwargs={"key": key})
    report = evaluate_policy(SignPolicy(), config, episodes=1, seed=0, deterministic=False)
    assert report["success_rate"] == expected


def test_evaluate_runs_worker_zeros_fleetrl_robot():
    config = EnvConfig(id="fleetrl/PickCube-v0", kwargs={"obs_mode": "state"}, robots=["sim_panda", "sim_arx"])

    class Still(SignPolicy):
        def act(self, obs, deterministic=False):
            assert obs.shape == (14,)
            return np.zeros(4, np.float32)

    report = evaluate_policy(Still(), config, episodes=1, seed=0)
    assert report["mean_length"] == 100 and report["successes"] == [False]


def run_folder(tmp_path, state):
    config = parse_run_config({"name": "eval", "env": {"id": "fleetrl_test/Countdown-v0"}}, "test")
    run = RunDir.create(config, path=tmp_path / "run")
    if state is not None:
        save_checkpoint(run, 1, state)
    return run


def test_load_policy_from_run_builds_and_loads_the_newest_weights(tmp_path, monkeypatch):
    import fleetrl.policies

    built = []

    def fake_build_policy(config, observation_space, action_space, seed=0):
        built.append((config.type, observation_space.shape, action_space.shape, seed))
        return SignPolicy()

    monkeypatch.setattr(fleetrl.policies, "build_policy", fake_build_policy)
    run = run_folder(tmp_path, {"policy_weights": {"w": 1}, "counters": {"policy_version": 9, "env_steps": 500}})
    save_checkpoint(run, 2, {"policy_weights": {"w": 2}, "counters": {"policy_version": 12, "env_steps": 900}})
    policy, config = load_policy_from_run(run.path)
    assert built == [("mlp", (2,), (1,), 0)]
    assert policy.loaded == {"w": 2} and policy.version == 12
    assert config.name == "eval"
    assert load_run_policy(run)[2]["env_steps"] == 900


def test_load_policy_from_run_names_the_folder_when_it_cannot(tmp_path):
    with pytest.raises(ConfigError, match="not a fleetrl run folder"):
        load_policy_from_run(tmp_path)
    run = run_folder(tmp_path, None)
    with pytest.raises(ConfigError, match="has no checkpoint"):
        load_policy_from_run(run.path)
    save_checkpoint(run, 1, {"counters": {}})
    with pytest.raises(ConfigError, match="no 'policy_weights'"):
        load_policy_from_run(run.path)
    (run.checkpoints / "ckpt-000001-1.pt").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="no loadable checkpoint"):
        load_policy_from_run(run.path)


def test_a_real_policy_round_trips_through_a_run_folder(tmp_path):
    policies = pytest.importorskip("fleetrl.policies")
    if not hasattr(policies, "build_policy"):
        pytest.skip("fleetrl.policies.build_policy not there yet")
    config = parse_run_config({"name": "eval", "env": {"id": "fleetrl_test/Countdown-v0"}}, "test")
    trained = policies.build_policy(config.policy, CountdownEnv.observation_space, CountdownEnv.action_space, seed=5)
    run = RunDir.create(config, path=tmp_path / "run")
    save_checkpoint(run, 1, {"policy_weights": trained.weights(), "counters": {"policy_version": 3}})
    policy, _ = load_policy_from_run(run)
    obs = np.array([0.3, -0.2], np.float32)
    assert policy.version == 3
    np.testing.assert_allclose(policy.act(obs, deterministic=True), trained.act(obs, deterministic=True))


def test_an_env_that_pays_nothing_is_evaluated_by_the_task_s_own_success_test():
    from fleetrl.runtime.config import EnvConfig
    from fleetrl.runtime.evaluate import judged_by_the_task

    silent = EnvConfig(id="fleetrl/PickCube-v0", robots=["sim_panda"], kwargs={"obs_mode": "state", "reward": "none"})
    assert judged_by_the_task(silent).kwargs == {"obs_mode": "state", "reward": "sparse"}
    assert silent.kwargs["reward"] == "none"  # the run's own config is left as it is
    shaped = silent.model_copy(update={"kwargs": {"reward": "shaped"}})
    assert judged_by_the_task(shaped) is shaped
