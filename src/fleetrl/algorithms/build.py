"""The algorithm a run config names (`algorithm.type`)."""

from __future__ import annotations

import gymnasium as gym

from fleetrl.core.interfaces import Algorithm
from fleetrl.policies import PolicyConfig


def build_algorithm(config, policy_config: PolicyConfig, observation_space: gym.spaces.Space,
                    action_space: gym.spaces.Space, device: str = "cpu", seed: int = 0) -> Algorithm:
    """SAC (`type: sac`) or HG-DAgger (`type: hg_dagger`) with the policy `policy_config` describes."""
    if config.type == "hg_dagger":
        from fleetrl.algorithms.hg_dagger import HGDAggerLearner

        return HGDAggerLearner(config, policy_config, observation_space, action_space, device, seed)
    from fleetrl.algorithms.sac import SACLearner

    return SACLearner(config, policy_config, observation_space, action_space, device, seed)


def trains_on_expert_steps_only(config) -> bool:
    """True for algorithms that learn only from demonstrations and interventions (HG-DAgger)."""
    return config.type == "hg_dagger"


def acts_deterministically(config) -> bool:
    """True for algorithms whose policy acts with its mean action while training (behaviour cloning)."""
    return config.type == "hg_dagger"
