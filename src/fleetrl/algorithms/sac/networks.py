"""The critic ensemble of SAC: `num_critics` independent Q(features, action) networks.

The members are evaluated together as batched matrix products (one weight tensor of shape
(E, in, out) per layer), so ten critics cost about as much Python as two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class EnsembleLinear(nn.Module):
    """E independent linear layers: (B, in) or (E, B, in) -> (E, B, out).

    Each member is initialised like `nn.Linear` (uniform in +-1/sqrt(in)).
    """

    def __init__(self, num_members: int, in_dim: int, out_dim: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_dim)
        self.weight = nn.Parameter(torch.empty(num_members, in_dim, out_dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num_members, 1, out_dim).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return torch.matmul(x, self.weight) + self.bias  # broadcast over members
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleLayerNorm(nn.Module):
    """LayerNorm over the last axis with a separate gain and bias per member: (E, B, D)."""

    def __init__(self, num_members: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_members, 1, dim))
        self.bias = nn.Parameter(torch.zeros(num_members, 1, dim))
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.bias, F.layer_norm(x, (self.dim,)), self.weight)


class CriticEnsemble(nn.Module):
    """Q_1..Q_E: features (B, F), action (B, A) -> Q values (E, B).

    Each member is an MLP on concat(features, action): Linear -> [LayerNorm] -> ReLU per hidden
    width, then a linear to one value.
    """

    def __init__(self, feature_dim: int, action_dim: int, hidden_sizes: Sequence[int], layer_norm: bool, num_critics: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = feature_dim + action_dim
        for size in hidden_sizes:
            layers.append(EnsembleLinear(num_critics, width, size))
            if layer_norm:
                layers.append(EnsembleLayerNorm(num_critics, size))
            layers.append(nn.ReLU())
            width = size
        layers.append(EnsembleLinear(num_critics, width, 1))
        self.net = nn.Sequential(*layers)
        self.num_critics = num_critics

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([features, action], dim=-1)).squeeze(-1)
