"""Policies behind one registry (`fleetrl.policies.registry`): the tanh-Gaussian MLP/CNN policy today.

`build_policy(config, observation_space, action_space, seed)` builds whatever kind `config` is.
"""

from __future__ import annotations

from fleetrl.core.components import PolicyConfig
from fleetrl.core.interfaces import TrainablePolicy
from fleetrl.policies.config import GaussianPolicyConfig
from fleetrl.policies.torch_policy import TorchPolicy


def build_policy(config: PolicyConfig, observation_space, action_space, seed: int = 0) -> TrainablePolicy:
    """A freshly initialised policy of `config`'s kind for these spaces (`seed` fixes the weights)."""
    return config.build(observation_space, action_space, seed)


def fresh_policy_copy(config: PolicyConfig, observation_space, action_space, seed: int, weights: dict) -> TrainablePolicy:
    """A new CPU policy of `config`'s kind holding `weights` (version 0): what a learner hands out."""
    policy = build_policy(config, observation_space, action_space, seed)
    policy.load_weights(weights, version=0)
    return policy


__all__ = ["GaussianPolicyConfig", "PolicyConfig", "TorchPolicy", "build_policy", "fresh_policy_copy"]
