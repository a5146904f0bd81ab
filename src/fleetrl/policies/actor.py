"""The tanh-squashed Gaussian actor of SAC: a = tanh(u), u ~ N(mu(s), sigma(s)^2)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from fleetrl.policies.mlp import mlp


def tanh_gaussian_log_prob(u: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log pi(a|s) for a = tanh(u), summed over action dimensions: (B, A) -> (B,).

        log pi(a|s) = sum_k [ log N(u_k; mu_k, sigma_k) - log(1 - tanh(u_k)^2) ]

    with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite where tanh(u)
    rounds to +-1.
    """
    gaussian = -0.5 * ((u - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2.0 * math.pi)
    log_det = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
    return (gaussian - log_det).sum(dim=-1)


class TanhGaussianActor(nn.Module):
    """features (B, F) -> a distribution over actions in (-1, 1)^A.

    `forward` gives the Gaussian's mean and log standard deviation before the squash, with
    log_std = log_std_min + (log_std_max - log_std_min) * (tanh(x) + 1) / 2 so it stays in bounds
    with a smooth gradient.
    """

    def __init__(
        self,
        feature_dim: int,
        action_dim: int,
        hidden_sizes: Sequence[int],
        layer_norm: bool,
        log_std_min: float = -5.0,
        log_std_max: float = 2.0,
    ) -> None:
        super().__init__()
        if log_std_min >= log_std_max:
            raise ValueError(f"log_std_min ({log_std_min}) must be below log_std_max ({log_std_max})")
        self.net = mlp(feature_dim, hidden_sizes, 2 * action_dim, layer_norm)
        self.action_dim = action_dim
        self.log_std_min = log_std_min
        self.log_std_max = log_std_max

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log_std), each (B, A), of the Gaussian before the tanh."""
        mean, raw = self.net(features).chunk(2, dim=-1)
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (torch.tanh(raw) + 1.0)
        return mean, log_std

    def sample(
        self, features: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(action (B, A), log_prob (B,), mean_action (B, A)) by reparameterisation.

        `action = tanh(mean + std * eps)` is differentiable in the actor's parameters;
        `mean_action = tanh(mean)` is the deterministic action.
        """
        mean, log_std = self(features)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        u = mean + log_std.exp() * eps
        return torch.tanh(u), tanh_gaussian_log_prob(u, mean, log_std), torch.tanh(mean)
