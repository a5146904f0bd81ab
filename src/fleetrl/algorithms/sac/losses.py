"""The losses of soft actor-critic, in the paper's notation, as pure functions of tensors.

Shapes: B transitions, E critics. `q_values` are (E, B), per-transition quantities are (B,).
Notation: Q_i the online critics, Q̄_j the target critics, pi the actor, alpha the temperature,
H̄ the target entropy, d the `terminated` flag (1.0 only at a true terminal state).
"""

from __future__ import annotations

import torch


def td_target(
    reward: torch.Tensor,
    terminated: torch.Tensor,
    next_q_values: torch.Tensor,
    next_log_prob: torch.Tensor,
    gamma: float,
    alpha: float | torch.Tensor,
    backup_entropy: bool = True,
) -> torch.Tensor:
    """The soft TD target, (B,), with no gradient:

        y = r + gamma (1 - d) (min_j Q̄_j(s', a') - alpha log pi(a'|s')),   a' ~ pi(.|s')

    `next_q_values` (E', B) are the target critics whose minimum is taken (all of them, or a
    random subset for REDQ/RLPD). `backup_entropy=False` drops the alpha log pi term.
    """
    next_value = next_q_values.min(dim=0).values
    if backup_entropy:
        next_value = next_value - alpha * next_log_prob
    return (reward + gamma * (1.0 - terminated) * next_value).detach()


def critic_loss(q_values: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The sum over the ensemble of each critic's mean squared TD error:

        L_Q = sum_i mean_b (Q_i(s, a) - y)^2
    """
    return ((q_values - target.unsqueeze(0)) ** 2).mean(dim=1).sum()


def actor_loss(q_values: torch.Tensor, log_prob: torch.Tensor, alpha: float | torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """The policy loss, for a~ ~ pi(.|s) by reparameterisation:

        L_pi = mean_b (alpha log pi(a~|s) - Q^(s, a~)),   Q^ = mean_i Q_i  (reduction="mean", RLPD)
                                                          Q^ = min_i Q_i   (reduction="min", SAC)
    """
    if reduction == "mean":
        q = q_values.mean(dim=0)
    elif reduction == "min":
        q = q_values.min(dim=0).values
    else:
        raise ValueError(f"reduction must be 'mean' or 'min', got {reduction!r}")
    return (alpha * log_prob - q).mean()


def temperature_loss(log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """The temperature loss, whose gradient raises alpha while the entropy is below target:

        L_alpha = mean_b (-log alpha (log pi(a~|s) + H̄))
    """
    return (-log_alpha * (log_prob + target_entropy).detach()).mean()
