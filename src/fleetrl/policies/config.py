"""Config of a policy network (run config key `policy`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PolicyConfig(BaseModel):
    """Which policy network to build; observation keys and sizes come from the environment."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field("mlp", pattern="^(mlp|cnn)$", description="'mlp' for state vectors, 'cnn' for images + proprioception.")
    hidden_sizes: tuple[int, ...] = Field((256, 256), description="Widths of the MLP layers (actor and critics).")
    layer_norm: bool = Field(True, description="LayerNorm after each hidden layer (stabilises high update-to-data ratios).")
    cnn_channels: tuple[int, ...] = Field((32, 32, 32, 32), description="Channels of the image encoder's conv layers.")
    cnn_strides: tuple[int, ...] = Field(
        (2, 2, 2, 1),
        description="Stride of each conv layer (one per cnn_channels entry; 3x3 kernels). DrQ uses (2, 1, 1, 1); "
        "the default downsamples more, which is ~5x cheaper on 128x128 frames.",
    )
    cnn_latent_dim: int = Field(50, gt=0, description="Size of each camera's encoder output.")
    augment_pad: int = Field(4, ge=0, description="Random-shift augmentation: pad by this many pixels, crop back (0 = off).")
    log_std_min: float = Field(-5.0, description="Lower bound of the actor's log standard deviation.")
    log_std_max: float = Field(2.0, description="Upper bound of the actor's log standard deviation.")

    @model_validator(mode="after")
    def _check(self) -> PolicyConfig:
        if len(self.cnn_strides) != len(self.cnn_channels):
            raise ValueError(
                f"cnn_strides has {len(self.cnn_strides)} entries but cnn_channels has {len(self.cnn_channels)}"
            )
        if any(s < 1 for s in self.cnn_strides) or any(c < 1 for c in self.cnn_channels):
            raise ValueError("cnn_channels and cnn_strides must be positive")
        if self.log_std_min >= self.log_std_max:
            raise ValueError(f"log_std_min ({self.log_std_min}) must be below log_std_max ({self.log_std_max})")
        return self
