"""Config of the tanh-Gaussian policy (run config key `policy` with `type: mlp` or `cnn`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fleetrl.core.components import PolicyConfig
from fleetrl.core.interfaces import TrainablePolicy


class GaussianPolicyConfig(PolicyConfig):
    """A tanh-Gaussian actor on an observation encoder: an MLP on state vectors ('mlp'), or a CNN per
    camera plus the state vector ('cnn')."""

    type: Literal["mlp", "cnn"] = Field("mlp", description="'mlp' for state vectors, 'cnn' for images + proprioception.")
    cnn_channels: tuple[int, ...] = Field((32, 32, 32, 32), description="Channels of the image encoder's conv layers.")
    cnn_strides: tuple[int, ...] = Field(
        (2, 2, 2, 1),
        description="Stride of each conv layer (one per cnn_channels entry; 3x3 kernels). DrQ uses (2, 1, 1, 1); "
        "the default downsamples more, which is ~5x cheaper on 128x128 frames.",
    )
    cnn_latent_dim: int = Field(50, gt=0, description="Size of each camera's encoder output.")
    log_std_min: float = Field(-5.0, description="Lower bound of the actor's log standard deviation.")
    log_std_max: float = Field(2.0, description="Upper bound of the actor's log standard deviation.")

    @model_validator(mode="after")
    def _check(self) -> GaussianPolicyConfig:
        if len(self.cnn_strides) != len(self.cnn_channels):
            raise ValueError(
                f"cnn_strides has {len(self.cnn_strides)} entries but cnn_channels has {len(self.cnn_channels)}"
            )
        if any(s < 1 for s in self.cnn_strides) or any(c < 1 for c in self.cnn_channels):
            raise ValueError("cnn_channels and cnn_strides must be positive")
        if self.log_std_min >= self.log_std_max:
            raise ValueError(f"log_std_min ({self.log_std_min}) must be below log_std_max ({self.log_std_max})")
        return self

    def build(self, observation_space, action_space, seed: int = 0) -> TrainablePolicy:
        from fleetrl.policies.torch_policy import build_gaussian_policy

        return build_gaussian_policy(self, observation_space, action_space, seed)
