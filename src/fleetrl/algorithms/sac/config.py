"""Config of soft actor-critic (run config key `algorithm` with `type: sac`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fleetrl.core.components import AlgorithmConfig, PolicyConfig
from fleetrl.core.interfaces import Algorithm, AlgorithmNeeds


class SACConfig(AlgorithmConfig):
    """SAC with an ensemble of critics and automatic temperature, RLPD-ready."""

    type: Literal["sac"] = Field("sac", description="Always 'sac'.")
    gamma: float = Field(0.99, gt=0, le=1, description="Discount factor.")
    tau: float = Field(0.005, gt=0, le=1, description="Polyak rate of the target critics.")
    actor_lr: float = Field(3e-4, gt=0, description="Adam learning rate of the actor.")
    critic_lr: float = Field(3e-4, gt=0, description="Adam learning rate of the critics (and a CNN encoder).")
    temperature_lr: float = Field(3e-4, gt=0, description="Adam learning rate of log(alpha).")
    init_temperature: float = Field(1.0, gt=0, description="Initial entropy temperature alpha.")
    target_entropy: float | None = Field(None, description="Entropy target; default -action_dim.")
    num_critics: int = Field(2, ge=1, description="Critics in the ensemble (2 = twin critics; RLPD uses 10).")
    critic_subsample: int | None = Field(None, ge=1, description="Critics whose minimum forms the target (None = all).")
    backup_entropy: bool = Field(True, description="Subtract alpha * log pi in the TD target.")
    batch_size: int = Field(256, gt=0, description="Transitions per gradient step.")
    utd_ratio: int = Field(1, ge=1, description="Critic updates per learner step (update-to-data ratio).")
    actor_q_reduction: Literal["mean", "min"] = Field(
        "mean",
        description="How the actor loss combines the critics: 'mean' over the ensemble (RLPD, SERL) or 'min' (classic SAC).",
    )

    @model_validator(mode="after")
    def _check_subsample(self) -> SACConfig:
        if self.critic_subsample is not None and self.critic_subsample > self.num_critics:
            raise ValueError(f"critic_subsample ({self.critic_subsample}) exceeds num_critics ({self.num_critics})")
        return self

    def needs(self) -> AlgorithmNeeds:
        """Acts stochastically, samples everything (demonstrations mixed in by `buffer.demo_ratio`)."""
        return AlgorithmNeeds(metric_names=("critic_loss", "actor_loss", "temperature", "q_mean", "entropy"))

    def build(self, policy: PolicyConfig, observation_space, action_space, device: str = "cpu", seed: int = 0) -> Algorithm:
        from fleetrl.algorithms.sac.learner import SACLearner

        return SACLearner(self, policy, observation_space, action_space, device, seed)
