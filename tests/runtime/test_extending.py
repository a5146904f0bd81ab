"""A new algorithm and a new policy, added from this file alone (no edit under src/), trained by the
runtime's own workers. This is the README's "Extending fleetrl" recipe, run.

The toy policy is deliberately not tanh-Gaussian (a clipped Gaussian on a linear map), so the
existing SAC learner training it shows that learners reach a policy only through
`TrainablePolicy`. The toy algorithm is behaviour cloning on the expert stream in a dozen lines.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pytest
import torch
from pydantic import Field
from test_workers import InProcessLearnerLinks, InProcessLinks
from torch import nn

from fleetrl.algorithms.registry import ALGORITHMS
from fleetrl.core.components import AlgorithmConfig, PolicyConfig
from fleetrl.core.interfaces import Algorithm, AlgorithmNeeds, TrainablePolicy
from fleetrl.policies.obs import obs_to_tensors
from fleetrl.policies.registry import POLICIES
from fleetrl.runtime.config import dump_run_config, parse_run_config
from fleetrl.runtime.env_worker import EnvWorker
from fleetrl.runtime.hub import RunHub
from fleetrl.runtime.learner_worker import LearnerWorker


class LinearGaussianPolicy(nn.Module, TrainablePolicy):
    """a ~ clip(W s + b + sigma eps, -1, 1) with a learned, state-independent sigma."""

    def __init__(self, obs_dim: int, action_dim: int, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.linear = nn.Linear(obs_dim, action_dim)
        self.log_sigma = nn.Parameter(torch.full((action_dim,), -1.0))
        self.feature_dim = obs_dim
        self.version = 0

    def obs_to_tensors(self, obs):
        return obs_to_tensors(obs)

    def features(self, obs):
        return obs.float()

    def sample(self, features, generator=None):
        mean = self.linear(features)
        noise = torch.randn(mean.shape, generator=generator)
        action = mean + self.log_sigma.exp() * noise
        return action.clamp(-1.0, 1.0), self.log_prob(features, action)

    def log_prob(self, features, action):
        mean, sigma = self.linear(features), self.log_sigma.exp()
        return (-0.5 * ((action - mean) / sigma) ** 2 - self.log_sigma - 0.5 * math.log(2 * math.pi)).sum(-1)

    def deterministic_action(self, features):
        return self.linear(features).clamp(-1.0, 1.0)

    def encoder_parameters(self):
        return iter(())

    def head_parameters(self):
        return self.parameters()

    @torch.no_grad()
    def act_batch(self, obs, deterministic=False):
        features = self.features(self.obs_to_tensors(obs))
        action = self.deterministic_action(features) if deterministic else self.sample(features)[0]
        return action.numpy().astype(np.float32)

    def act(self, obs, deterministic=False):
        return self.act_batch(np.asarray(obs)[None], deterministic)[0]

    def weights(self):
        return {k: v.detach().clone() for k, v in self.state_dict().items()}

    def load_weights(self, weights, version):
        self.load_state_dict(weights)
        self.version = int(version)


class LinearGaussianConfig(PolicyConfig):
    type: Literal["toy_linear"] = "toy_linear"

    def build(self, observation_space, action_space, seed=0):
        return LinearGaussianPolicy(observation_space.shape[0], action_space.shape[0], seed)


class ToyBC(Algorithm):
    """Regress the policy's deterministic action on the batch's actions."""

    def __init__(self, config, policy_config, observation_space, action_space, seed):
        self.config, self.policy_config, self.spaces, self.seed = config, policy_config, (observation_space, action_space), seed
        self.policy = policy_config.build(observation_space, action_space, seed)
        self.optimizer = torch.optim.SGD(self.policy.parameters(), lr=config.lr)
        self.updates = 0

    def update(self, sample):
        batch = sample(self.config.batch_size)
        features = self.policy.features(self.policy.obs_to_tensors(batch["obs"]))
        loss = ((self.policy.deterministic_action(features) - torch.as_tensor(batch["action"])) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.updates += 1
        return {"toy_loss": loss.item()}

    def policy_weights(self):
        return self.policy.weights()

    def make_policy(self):
        policy = self.policy_config.build(*self.spaces, self.seed)
        policy.load_weights(self.policy_weights(), 0)
        return policy

    def state_dict(self):
        return {"policy": self.policy.weights(), "updates": self.updates}

    def load_state_dict(self, state):
        self.policy.load_weights(state["policy"], 0)
        self.updates = state["updates"]


class ToyBCConfig(AlgorithmConfig):
    type: Literal["toy_bc"] = "toy_bc"
    lr: float = Field(0.05, gt=0, description="SGD step size.")

    def needs(self):
        return AlgorithmNeeds(metric_names=("toy_loss",))

    def build(self, policy, observation_space, action_space, device="cpu", seed=0):
        return ToyBC(self, policy, observation_space, action_space, seed)


@pytest.fixture
def toy_kinds():
    POLICIES.register("toy_linear", LinearGaussianConfig)
    ALGORITHMS.register("toy_bc", ToyBCConfig)
    yield
    POLICIES.unregister("toy_linear")
    ALGORITHMS.unregister("toy_bc")


def _run(algorithm: dict, rounds: int = 3):
    """An env worker and a learner worker, wired in this process; returns (config, learner, hub)."""
    config = parse_run_config({
        "env": {"id": "Pendulum-v1"},
        "policy": {"type": "toy_linear"},
        "algorithm": {"batch_size": 32, **algorithm},
        "buffer": {"storage": "memory"},
        "runtime": {"learning_starts": 64, "chunk_size": 16, "publish_every": 5},
    }, "toy.yaml")
    hub = RunHub()
    links = InProcessLinks(hub)
    worker = EnvWorker(config, 0, links, lambda o, a: config.policy.build(o, a, seed=0), seed=0)
    learner = LearnerWorker(config, worker.env.observation_space, worker.env.action_space, InProcessLearnerLinks(hub), seed=0)
    links.learner = learner
    for _ in range(rounds):
        worker.collect(episodes=1)
        learner.train(steps=20)
    worker.collect(episodes=1)  # acts with the newest weights
    return config, learner, hub, links


def test_a_toy_algorithm_and_policy_registered_from_a_test_train_through_the_runtime(toy_kinds):
    config, learner, hub, links = _run({"type": "toy_bc"})
    assert isinstance(learner.algorithm, ToyBC) and isinstance(learner.algorithm.policy, LinearGaussianPolicy)
    assert learner.algorithm.updates == 60 and hub.latest_version == learner.version > 0
    assert (links.chunks[-1]["policy_version"] == learner.version).all()  # acting used the toy's weights
    stats = learner.stats()
    assert "toy_loss" in stats and stats["buffer_transitions"] == 800  # the algorithm's own metric reaches the stats
    dumped = parse_run_config(__import__("yaml").safe_load(dump_run_config(config)), "again")
    assert dumped.algorithm == config.algorithm and dumped.policy == config.policy


def test_sac_trains_a_policy_that_is_not_tanh_gaussian_without_learner_edits(toy_kinds):
    _, learner, _, _ = _run({"type": "sac", "utd_ratio": 1}, rounds=2)
    stats = learner.stats()
    assert learner.algorithm.updates == 40
    assert all(math.isfinite(stats[k]) for k in ("critic_loss", "actor_loss", "entropy", "temperature"))
    assert isinstance(learner.algorithm.policy, LinearGaussianPolicy)


def test_an_unregistered_kind_is_a_config_error_naming_the_key_and_the_known_kinds():
    with pytest.raises(ValueError, match=r"toy\.yaml\.algorithm: .*unknown algorithm type 'toy_bc'; known types: hg_dagger, sac"):
        parse_run_config({"env": {"id": "Pendulum-v1"}, "algorithm": {"type": "toy_bc"}}, "toy.yaml")
