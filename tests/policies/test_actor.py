import math

import numpy as np
import pytest
import torch

from fleetrl.policies.actor import TanhGaussianActor, tanh_gaussian_log_prob


def reference_log_density(a: float, mean: float, std: float, h: float = 1e-6) -> float:
    """log of d/da P(tanh(U) <= a), U ~ N(mean, std^2), by a central finite difference."""

    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf((math.atanh(x) - mean) / (std * math.sqrt(2.0))))

    return math.log((cdf(a + h) - cdf(a - h)) / (2.0 * h))


@pytest.mark.parametrize("u", [-2.5, -0.3, 0.0, 0.7, 1.9])
def test_log_prob_matches_numerical_density(u):
    mean, log_std = 0.4, math.log(0.8)
    got = tanh_gaussian_log_prob(
        torch.tensor([[u]], dtype=torch.float64),
        torch.tensor([[mean]], dtype=torch.float64),
        torch.tensor([[log_std]], dtype=torch.float64),
    )
    assert got.shape == (1,)
    assert got.item() == pytest.approx(reference_log_density(math.tanh(u), mean, 0.8), abs=1e-5)


def test_log_prob_sums_over_action_dimensions():
    u = torch.tensor([[0.3, -1.2]], dtype=torch.float64)
    mean = torch.tensor([[0.1, -0.5]], dtype=torch.float64)
    log_std = torch.tensor([[math.log(0.5), math.log(1.5)]], dtype=torch.float64)
    expected = reference_log_density(math.tanh(0.3), 0.1, 0.5) + reference_log_density(math.tanh(-1.2), -0.5, 1.5)
    assert tanh_gaussian_log_prob(u, mean, log_std).item() == pytest.approx(expected, abs=1e-5)


def test_log_prob_stays_finite_when_tanh_saturates():
    u = torch.tensor([[30.0, -30.0]])
    value = tanh_gaussian_log_prob(u, torch.zeros(1, 2), torch.zeros(1, 2))
    assert torch.isfinite(value).all()


def test_log_std_bounds_and_sample_contract():
    torch.manual_seed(0)
    actor = TanhGaussianActor(6, 3, (16,), layer_norm=True, log_std_min=-4.0, log_std_max=1.0)
    with torch.no_grad():
        actor.net[-1].weight.mul_(1000.0)  # push the raw log_std far out of range
    features = torch.randn(50, 6)
    mean, log_std = actor(features)
    assert mean.shape == log_std.shape == (50, 3)
    assert (log_std >= -4.0).all() and (log_std <= 1.0).all()

    action, log_prob, mean_action = actor.sample(features, torch.Generator().manual_seed(1))
    assert action.shape == (50, 3) and log_prob.shape == (50,)
    assert (action.abs() <= 1.0).all()
    torch.testing.assert_close(mean_action, torch.tanh(mean))


def test_sample_is_reparameterised():
    actor = TanhGaussianActor(4, 2, (8,), layer_norm=False)
    action, log_prob, _ = actor.sample(torch.randn(5, 4))
    (action.sum() + log_prob.sum()).backward()
    assert all(p.grad is not None for p in actor.parameters())


def test_bad_log_std_bounds_are_refused():
    with pytest.raises(ValueError):
        TanhGaussianActor(4, 2, (8,), layer_norm=False, log_std_min=1.0, log_std_max=0.0)


def test_sampled_actions_follow_the_density():
    """A histogram of sampled actions agrees with exp(log_prob) of the same actor."""
    actor = TanhGaussianActor(1, 1, (), layer_norm=False)
    with torch.no_grad():
        actor.net[0].weight.zero_()
        actor.net[0].bias.copy_(torch.tensor([0.5, 0.0]))  # mean 0.5, raw log_std 0
    features = torch.zeros(200_000, 1)
    with torch.no_grad():
        action, _, _ = actor.sample(features, torch.Generator().manual_seed(0))
        mean, log_std = actor(torch.zeros(1, 1))
    counts, edges = np.histogram(action.numpy().ravel(), bins=30, range=(-0.9, 0.9))
    centres = 0.5 * (edges[1:] + edges[:-1])
    u = torch.atanh(torch.tensor(centres, dtype=torch.float32)).unsqueeze(-1)
    density = tanh_gaussian_log_prob(u, mean.expand_as(u), log_std.expand_as(u)).exp().numpy()
    empirical = counts / (len(features) * (edges[1] - edges[0]))
    np.testing.assert_allclose(empirical, density, rtol=0.08, atol=0.01)
