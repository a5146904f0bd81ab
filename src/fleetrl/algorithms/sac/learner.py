"""The SAC learner: critic ensemble, tanh-Gaussian actor, automatic temperature, RLPD/DrQ-ready.

One `update(sample)`:

    for _ in range(utd_ratio):                  # critic steps, each on a fresh batch
        batch = sample(batch_size); augment its images
        y = r + gamma (1 - d) (min_{j in subset} Q̄_j(s', a') - alpha log pi(a'|s'))
        step the critics (and the image encoder) on sum_i mean (Q_i(s, a) - y)^2
        Q̄ <- tau Q + (1 - tau) Q̄
    step the actor on the last batch:        mean(alpha log pi(a~|s) - Q^(s, a~))
    step the temperature on the last batch:  mean(-log alpha (log pi(a~|s) + H̄))

With images the encoder is shared (DrQ): the critic loss trains it, the actor sees its features
detached, and the target critics read the online encoder's features of s' (no target encoder,
as in DrQ-v2). Random shifts are applied here, on uint8 frames, to training batches only.
"""

from __future__ import annotations

import copy
import math

import gymnasium as gym
import numpy as np
import torch

from fleetrl.algorithms.sac import losses
from fleetrl.algorithms.sac.config import SACConfig
from fleetrl.algorithms.sac.networks import CriticEnsemble
from fleetrl.core.components import PolicyConfig
from fleetrl.core.interfaces import Algorithm, Policy, TrainablePolicy
from fleetrl.policies import fresh_policy_copy
from fleetrl.policies.augment import augment_images

Batch = dict  # "obs"/"next_obs": Tensor or dict of Tensors; "action", "reward", "terminated": Tensor


class SACLearner(Algorithm):
    """Soft actor-critic on batches from `sample(batch_size)` (see `fleetrl.core.interfaces.Algorithm`).

    Batches are numpy: "obs"/"next_obs" float32 (B, D) vectors or dicts of float32 (B, D) state
    and uint8 (B, H, W, 3) frames; "action" (B, A) in [-1, 1]; "reward" and "terminated" (B,).
    `policy` (encoder + actor) is trained in place; critics, targets, temperature and optimisers
    never leave the learner. All randomness (noise, shifts, critic subsets) comes from one
    seeded generator saved in `state_dict()`, so a resumed run continues bit-for-bit.
    """

    def __init__(
        self,
        config: SACConfig,
        policy_config: PolicyConfig,
        observation_space: gym.spaces.Space,
        action_space: gym.spaces.Space,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ) -> None:
        self.config = config
        self.policy_config = policy_config
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = torch.device(device)
        self.seed = seed
        self.updates = 0

        self.policy: TrainablePolicy = policy_config.build(observation_space, action_space, seed).to(self.device)
        action_dim = int(action_space.shape[0])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 1)
            self.critic = CriticEnsemble(
                self.policy.feature_dim, action_dim, policy_config.hidden_sizes, policy_config.layer_norm, config.num_critics
            ).to(self.device)
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(math.log(config.init_temperature), device=self.device, requires_grad=True)
        self.target_entropy = float(config.target_entropy) if config.target_entropy is not None else -float(action_dim)

        # The fused kernels do one pass over all parameters: ~3x faster steps on CPU, same maths.
        self.actor_optimizer = torch.optim.Adam(self.policy.head_parameters(), lr=config.actor_lr, fused=True)
        critic_params = list(self.critic.parameters()) + list(self.policy.encoder_parameters())
        self.critic_optimizer = torch.optim.Adam(critic_params, lr=config.critic_lr, fused=True)
        self.temperature_optimizer = torch.optim.Adam([self.log_alpha], lr=config.temperature_lr, fused=True)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    @property
    def alpha(self) -> torch.Tensor:
        """The temperature alpha = exp(log alpha), detached."""
        return self.log_alpha.detach().exp()

    # -- the update ---------------------------------------------------------------------------

    def update(self, sample) -> dict[str, float]:
        """`utd_ratio` critic steps on fresh batches, then one actor and one temperature step."""
        for _ in range(self.config.utd_ratio):
            batch = self._to_torch(sample(self.config.batch_size))
            critic_metrics, features = self._update_critic(batch)
            self._update_target()
        actor_metrics, log_prob = self._update_actor(features)
        temperature_metrics = self._update_temperature(log_prob)
        self.updates += 1
        return {**critic_metrics, **actor_metrics, **temperature_metrics}

    def _update_critic(self, batch: Batch) -> tuple[dict[str, float], torch.Tensor]:
        """One critic (and encoder) step; returns metrics and the batch's features, detached."""
        obs, next_obs = self._augment(batch["obs"]), self._augment(batch["next_obs"])
        with torch.no_grad():
            next_features = self.policy.features(next_obs)
            next_action, next_log_prob = self.policy.sample(next_features, self.generator)
            next_q_values = self.target_critic(next_features, next_action)
            if self.config.critic_subsample is not None:
                subset = torch.randperm(self.config.num_critics, generator=self.generator, device=self.device)
                next_q_values = next_q_values[subset[: self.config.critic_subsample]]
            y = losses.td_target(
                batch["reward"], batch["terminated"], next_q_values, next_log_prob,
                self.config.gamma, self.alpha, self.config.backup_entropy,
            )  # fmt: skip
        features = self.policy.features(obs)
        q_values = self.critic(features, batch["action"])
        loss = losses.critic_loss(q_values, y)
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_optimizer.step()
        metrics = {"critic_loss": loss.item(), "q_mean": q_values.mean().item(), "target_q_mean": y.mean().item()}
        return metrics, features.detach()

    @torch.no_grad()
    def _update_target(self) -> None:
        """Q̄ <- tau Q + (1 - tau) Q̄."""
        for target, online in zip(self.target_critic.parameters(), self.critic.parameters(), strict=True):
            target.lerp_(online, self.config.tau)

    def _update_actor(self, features: torch.Tensor) -> tuple[dict[str, float], torch.Tensor]:
        """One actor step on (detached) features; returns metrics and log pi(a~|s), detached."""
        self.critic.requires_grad_(False)  # the actor's gradient flows through Q to a~ only
        try:
            action, log_prob = self.policy.sample(features, self.generator)
            q_values = self.critic(features, action)
            loss = losses.actor_loss(q_values, log_prob, self.alpha, self.config.actor_q_reduction)
            self.actor_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.actor_optimizer.step()
        finally:
            self.critic.requires_grad_(True)
        log_prob = log_prob.detach()
        return {"actor_loss": loss.item(), "entropy": -log_prob.mean().item()}, log_prob

    def _update_temperature(self, log_prob: torch.Tensor) -> dict[str, float]:
        """One step of log alpha on mean(-log alpha (log pi + H̄)); returns the new temperature."""
        loss = losses.temperature_loss(self.log_alpha, log_prob, self.target_entropy)
        self.temperature_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.temperature_optimizer.step()
        return {"temperature_loss": loss.item(), "temperature": self.alpha.item()}

    # -- batches ------------------------------------------------------------------------------

    def _to_torch(self, batch: dict) -> Batch:
        out: Batch = {"obs": self.policy.obs_to_tensors(batch["obs"]), "next_obs": self.policy.obs_to_tensors(batch["next_obs"])}
        for key in ("action", "reward", "terminated"):
            out[key] = torch.as_tensor(np.asarray(batch[key], dtype=np.float32), device=self.device)
        return out

    def _augment(self, obs):
        """Random shifts of every camera frame (uint8 (B, H, W, 3)); vectors pass unchanged."""
        return augment_images(obs, self.policy.image_keys, self.policy_config.augment_pad, self.generator)

    # -- what leaves the learner ----------------------------------------------------------------

    def policy_weights(self) -> dict[str, torch.Tensor]:
        """Detached CPU copies of the policy's tensors: what its `load_weights` takes."""
        return self.policy.weights()

    def make_policy(self) -> Policy:
        """A fresh CPU policy of the same architecture holding the current weights (version 0)."""
        return fresh_policy_copy(self.policy_config, self.observation_space, self.action_space, self.seed, self.policy_weights())

    def state_dict(self) -> dict:
        """A deep copy of everything training depends on (safe to keep while training goes on)."""
        return copy.deepcopy(
            {
                "policy": self.policy.state_dict(),
                "critic": self.critic.state_dict(),
                "target_critic": self.target_critic.state_dict(),
                "log_alpha": self.log_alpha.detach(),
                "actor_optimizer": self.actor_optimizer.state_dict(),
                "critic_optimizer": self.critic_optimizer.state_dict(),
                "temperature_optimizer": self.temperature_optimizer.state_dict(),
                "generator": self.generator.get_state(),
                "updates": self.updates,
            }
        )

    def load_state_dict(self, state: dict) -> None:
        """Restore from `state_dict()` into a learner built with the same configs and spaces."""
        self.policy.load_state_dict(state["policy"])
        self.critic.load_state_dict(state["critic"])
        self.target_critic.load_state_dict(state["target_critic"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.temperature_optimizer.load_state_dict(state["temperature_optimizer"])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])
