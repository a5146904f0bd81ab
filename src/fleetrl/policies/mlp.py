"""A multilayer perceptron builder shared by the actor and the critics."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int | None = None, layer_norm: bool = True) -> nn.Sequential:
    """Linear -> [LayerNorm] -> ReLU for each hidden width, then an optional linear head.

    With `out_dim=None` the network ends at the last hidden activation (a trunk); its output
    width is then `hidden_sizes[-1]` (or `in_dim` when there are no hidden layers).
    """
    layers: list[nn.Module] = []
    width = in_dim
    for size in hidden_sizes:
        layers.append(nn.Linear(width, size))
        if layer_norm:
            layers.append(nn.LayerNorm(size))
        layers.append(nn.ReLU())
        width = size
    if out_dim is not None:
        layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)
