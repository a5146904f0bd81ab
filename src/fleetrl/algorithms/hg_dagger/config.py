"""Config of HG-DAgger (run config key `algorithm` with `type: hg_dagger`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleetrl.core.components import AlgorithmConfig, PolicyConfig
from fleetrl.core.interfaces import Algorithm, AlgorithmNeeds


class HGDAggerConfig(AlgorithmConfig):
    """Human-gated DAgger: behaviour cloning, fine-tuned online on the steps an expert took over.

    Only expert-labelled transitions are trained on (demonstrations and interventions; never the
    policy's own actions). The policy acts deterministically (the mean action).
    """

    type: Literal["hg_dagger"] = Field("hg_dagger", description="Always 'hg_dagger'.")
    lr: float = Field(3e-4, gt=0, description="Adam learning rate of the policy (encoder and actor).")
    weight_decay: float = Field(0.0, ge=0, description="Adam weight decay.")
    batch_size: int = Field(256, gt=0, description="Expert-labelled transitions per gradient step.")
    utd_ratio: int = Field(1, ge=1, description="Gradient steps per learner step.")
    loss: Literal["mse", "nll"] = Field(
        "mse",
        description="'mse': squared error of the mean action; 'nll': negative log-likelihood of the expert action.",
    )
    pretrain_steps: int = Field(
        0, ge=0, description="Gradient steps on the demonstrations (buffer.demos) before the first weights are published."
    )

    def needs(self) -> AlgorithmNeeds:
        """Acts with the deterministic action and learns from expert-labelled steps only."""
        return AlgorithmNeeds(
            deterministic_acting=True, expert_only=True, pretrain_steps=self.pretrain_steps,
            metric_names=("bc_loss", "bc_action_error"),
        )

    def build(self, policy: PolicyConfig, observation_space, action_space, device: str = "cpu", seed: int = 0) -> Algorithm:
        from fleetrl.algorithms.hg_dagger.learner import HGDAggerLearner

        return HGDAggerLearner(self, policy, observation_space, action_space, device, seed)
