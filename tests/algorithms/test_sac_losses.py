"""The SAC losses on two-transition, two-critic inputs whose values are worked out by hand."""

import math

import pytest
import torch

from fleetrl.algorithms.sac import losses


def t(values):
    return torch.tensor(values, dtype=torch.float64)


def test_td_target():
    reward, terminated = t([1.0, 0.5]), t([0.0, 1.0])
    next_q = t([[2.0, 3.0], [1.5, 4.0]])  # min over critics: [1.5, 3.0]
    next_log_prob = t([-1.0, 0.2])
    y = losses.td_target(reward, terminated, next_q, next_log_prob, gamma=0.9, alpha=0.5)
    # y0 = 1 + 0.9 * (1.5 - 0.5 * -1.0) = 2.8; y1 = 0.5 (terminal: no bootstrap)
    torch.testing.assert_close(y, t([2.8, 0.5]))
    y = losses.td_target(reward, terminated, next_q, next_log_prob, gamma=0.9, alpha=0.5, backup_entropy=False)
    torch.testing.assert_close(y, t([1.0 + 0.9 * 1.5, 0.5]))  # 2.35


def test_td_target_has_no_gradient():
    next_q = t([[2.0, 3.0]]).requires_grad_()
    y = losses.td_target(t([0.0, 0.0]), t([0.0, 0.0]), next_q, t([0.0, 0.0]), 0.9, 0.1)
    assert not y.requires_grad


def test_critic_loss_sums_the_ensemble():
    q = t([[1.0, 2.0], [4.0, 0.0]])
    y = t([2.0, 1.0])
    # critic 1: ((1-2)^2 + (2-1)^2) / 2 = 1; critic 2: ((4-2)^2 + (0-1)^2) / 2 = 2.5
    assert losses.critic_loss(q, y).item() == pytest.approx(3.5)


def test_actor_loss_mean_and_min():
    q = t([[1.0, 2.0], [3.0, 0.0]])
    log_prob = t([-1.0, 0.5])
    # mean over critics: Q^ = [2, 1]; terms 0.2 * -1 - 2 = -2.2 and 0.2 * 0.5 - 1 = -0.9
    assert losses.actor_loss(q, log_prob, 0.2, "mean").item() == pytest.approx(-1.55)
    # min over critics: Q^ = [1, 0]; terms -1.2 and 0.1
    assert losses.actor_loss(q, log_prob, 0.2, "min").item() == pytest.approx(-0.55)
    with pytest.raises(ValueError):
        losses.actor_loss(q, log_prob, 0.2, "max")


def test_temperature_loss_value_and_gradient():
    log_alpha = torch.tensor(math.log(0.5), dtype=torch.float64, requires_grad=True)
    log_prob = t([-1.0, -3.0]).requires_grad_()
    # log pi + H̄ = [-3, -5], mean -4: L = -log(0.5) * -4 = 4 log 0.5
    loss = losses.temperature_loss(log_alpha, log_prob, target_entropy=-2.0)
    assert loss.item() == pytest.approx(4.0 * math.log(0.5))
    loss.backward()
    assert log_alpha.grad.item() == pytest.approx(4.0)  # entropy 2 above target -2: lower alpha
    assert log_prob.grad is None  # the actor gets no gradient from this loss
