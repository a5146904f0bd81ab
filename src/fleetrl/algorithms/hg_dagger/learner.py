"""The HG-DAgger learner: behaviour cloning on expert-labelled transitions.

    learner = HGDAggerLearner(config, policy_config, observation_space, action_space)
    metrics = learner.update(replay.sample)     # replay serves expert-labelled steps only
    weights = learner.policy_weights()          # the same TorchPolicy SAC would ship

What makes it HG-DAgger rather than plain behaviour cloning is the data: the policy acts, an
expert (a person, or the scripted expert) takes over when it is about to fail, and only the
expert's steps are added to the training set. The replay the runtime builds for this algorithm
samples nothing else (`buffer.build`), so this module is only the supervised update.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import torch

from fleetrl.algorithms.hg_dagger import losses
from fleetrl.algorithms.hg_dagger.config import HGDAggerConfig
from fleetrl.core.components import PolicyConfig
from fleetrl.core.interfaces import Algorithm, Policy, TrainablePolicy
from fleetrl.policies import fresh_policy_copy
from fleetrl.policies.augment import augment_images


class HGDAggerLearner(Algorithm):
    """Trains `policy` (encoder + actor) in place to reproduce the actions in its batches."""

    def __init__(
        self,
        config: HGDAggerConfig,
        policy_config: PolicyConfig,
        observation_space: gym.spaces.Space,
        action_space: gym.spaces.Space,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ) -> None:
        self.config, self.policy_config = config, policy_config
        self.observation_space, self.action_space = observation_space, action_space
        self.device, self.seed = torch.device(device), seed
        self.updates = 0
        self.policy: TrainablePolicy = policy_config.build(observation_space, action_space, seed).to(self.device)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def _obs(self, obs):
        """Tensors of a batch's observations, camera frames randomly shifted as for SAC (DrQ)."""
        obs = self.policy.obs_to_tensors(obs)
        return augment_images(obs, self.policy.image_keys, self.policy_config.augment_pad, self.generator)

    def update(self, sample) -> dict[str, float]:
        """`utd_ratio` gradient steps on fresh batches of expert-labelled transitions."""
        for _ in range(self.config.utd_ratio):
            batch = sample(self.config.batch_size)
            a_expert = torch.as_tensor(np.asarray(batch["action"], dtype=np.float32), device=self.device)
            features = self.policy.features(self._obs(batch["obs"]))
            a_policy = self.policy.deterministic_action(features)
            if self.config.loss == "mse":
                loss = losses.mse_loss(a_policy, a_expert)
            else:
                loss = losses.nll_loss(self.policy.log_prob(features, a_expert))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        self.updates += 1
        with torch.no_grad():
            error = (a_policy - a_expert).abs().mean()  # before the step, on the batch it learned from
        return {"bc_loss": loss.item(), "bc_action_error": error.item()}

    def policy_weights(self) -> dict[str, torch.Tensor]:
        return self.policy.weights()

    def make_policy(self) -> Policy:
        return fresh_policy_copy(self.policy_config, self.observation_space, self.action_space, self.seed, self.policy_weights())

    def state_dict(self) -> dict:
        return copy.deepcopy({
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "updates": self.updates,
        })

    def load_state_dict(self, state: dict) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])
