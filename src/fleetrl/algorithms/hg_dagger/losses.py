"""Behaviour-cloning losses, top to bottom.

    a_expert: (B, A) expert actions in [-1, 1]; the actor gives (mean, log_std) of a Gaussian
    over u, and the action is tanh(u).
"""

from __future__ import annotations

import torch

from fleetrl.policies.actor import tanh_gaussian_log_prob

_EDGE = 1.0 - 1e-4  # atanh(+-1) is infinite: expert actions on the bound are pulled just inside


def mse_loss(mean: torch.Tensor, a_expert: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the deterministic action tanh(mean) and the expert's."""
    return ((torch.tanh(mean) - a_expert) ** 2).sum(dim=-1).mean()


def nll_loss(mean: torch.Tensor, log_std: torch.Tensor, a_expert: torch.Tensor) -> torch.Tensor:
    """-log pi(a_expert | s) under the tanh-Gaussian policy."""
    u_expert = torch.atanh(a_expert.clamp(-_EDGE, _EDGE))
    return -tanh_gaussian_log_prob(u_expert, mean, log_std).mean()
