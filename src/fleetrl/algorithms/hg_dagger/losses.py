"""Behaviour-cloning losses, top to bottom.

    a_expert: (B, A) expert actions in [-1, 1]; a_policy: (B, A) the policy's deterministic action;
    log_prob: (B,) log pi(a_expert | s) under the policy (see `TrainablePolicy.log_prob`).
"""

from __future__ import annotations

import torch


def mse_loss(a_policy: torch.Tensor, a_expert: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the squared error between the policy's deterministic action and the expert's."""
    return ((a_policy - a_expert) ** 2).sum(dim=-1).mean()


def nll_loss(log_prob: torch.Tensor) -> torch.Tensor:
    """-log pi(a_expert | s), averaged over the batch."""
    return -log_prob.mean()
