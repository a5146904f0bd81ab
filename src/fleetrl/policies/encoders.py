"""Observation encoders: one feature vector per observation, for the actor and the critics.

An observation is a float32 vector, or a dict of 1-D float "state" arrays and uint8 (H, W, 3)
camera frames (see `fleetrl.envs.robot_env.RobotEnv`). Inputs carry a leading batch dimension.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn


def is_image_space(space: gym.spaces.Space) -> bool:
    """A uint8 Box of shape (H, W, 3): one RGB camera."""
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3 and space.shape[-1] == 3


def is_vector_space(space: gym.spaces.Space) -> bool:
    """A 1-D floating-point Box."""
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1 and np.issubdtype(space.dtype, np.floating)


class ImageEncoder(nn.Module):
    """uint8 (B, H, W, 3) frames -> (B, latent_dim) features in (-1, 1).

    Conv 3x3 layers with ReLU (widths `channels`, strides `strides`, the first stride 2), then a
    linear projection, LayerNorm and tanh (the SAC-AE / DrQ head). Pixels are scaled to
    [-0.5, 0.5] and made channels-first inside, so callers hand over frames as stored.
    """

    def __init__(self, height: int, width: int, channels: Sequence[int], strides: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for out_channels, stride in zip(channels, strides, strict=True):
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride), nn.ReLU(inplace=True)]
            in_channels = out_channels
        layers.append(nn.Flatten())
        self.convs = nn.Sequential(*layers)
        with torch.no_grad():
            flat_dim = self.convs(torch.zeros(1, 3, height, width)).shape[-1]
        self.head = nn.Sequential(nn.Linear(flat_dim, latent_dim), nn.LayerNorm(latent_dim), nn.Tanh())
        self.latent_dim = latent_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # A permuted NHWC tensor is already in channels-last memory order, which CPU convs like.
        x = images.permute(0, 3, 1, 2).float().mul(1.0 / 255.0).sub_(0.5)
        return self.head(self.convs(x))


class ObservationEncoder(nn.Module):
    """An observation -> (B, feature_dim) float32 features.

    Vector observations pass through unchanged (identity). Dict observations give the
    concatenation of their vector keys (sorted by name) and one `ImageEncoder` output per camera
    key (sorted by name; each camera has its own weights, as wrist and scene views differ).
    """

    def __init__(
        self, observation_space: gym.spaces.Space, channels: Sequence[int] = (), strides: Sequence[int] = (), latent_dim: int = 50
    ) -> None:
        super().__init__()
        self.vector_keys: list[str] = []
        self.image_keys: list[str] = []
        self.cameras = nn.ModuleDict()
        if is_vector_space(observation_space):
            self.feature_dim = int(observation_space.shape[0])
            return
        if not isinstance(observation_space, gym.spaces.Dict):
            raise ValueError(f"unsupported observation space {observation_space}: need a 1-D float Box or a Dict")
        feature_dim = 0
        for key in sorted(observation_space.spaces):
            space = observation_space.spaces[key]
            if is_vector_space(space):
                self.vector_keys.append(key)
                feature_dim += int(space.shape[0])
            elif is_image_space(space):
                self.image_keys.append(key)
                h, w, _ = space.shape
                self.cameras[key] = ImageEncoder(h, w, channels, strides, latent_dim)
                feature_dim += latent_dim
            else:
                raise ValueError(f"observation key {key!r}: need a 1-D float Box or a uint8 (H, W, 3) Box, got {space}")
        self.feature_dim = feature_dim

    @property
    def is_identity(self) -> bool:
        """True for vector observations: the features are the observation itself."""
        return not self.vector_keys and not self.image_keys

    def forward(self, obs: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        if self.is_identity:
            return obs.float()  # type: ignore[union-attr]
        parts = [obs[key].float() for key in self.vector_keys]  # type: ignore[index]
        parts += [self.cameras[key](obs[key]) for key in self.image_keys]  # type: ignore[index]
        return torch.cat(parts, dim=-1)
