"""The tanh-Gaussian policy (`policy.type` mlp or cnn): an observation encoder and a tanh-Gaussian actor.

It ships to inference workers (`Policy`) and is what SAC and HG-DAgger train (`TrainablePolicy`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from fleetrl.core.interfaces import TrainablePolicy
from fleetrl.policies.actor import TanhGaussianActor, tanh_gaussian_log_prob
from fleetrl.policies.config import GaussianPolicyConfig
from fleetrl.policies.encoders import ObservationEncoder, is_image_space, is_vector_space
from fleetrl.policies.obs import obs_to_tensors

_EDGE = 1.0 - 1e-4  # atanh(+-1) is infinite: actions on the bound are pulled just inside


class TorchPolicy(nn.Module, TrainablePolicy):
    """`encoder` (observation -> features) then `actor` (features -> action in [-1, 1]).

    `act`/`act_batch` take numpy observations as the environment gives them (float32 vectors,
    uint8 (H, W, 3) frames) and run without gradients on the module's device. Stochastic actions
    draw from the policy's own seeded generator, so a seeded worker is reproducible.
    The learner trains `encoder` and `actor` in place; `weights()` holds exactly their tensors.
    """

    def __init__(self, encoder: ObservationEncoder, actor: TanhGaussianActor, seed: int = 0) -> None:
        super().__init__()
        self.encoder = encoder
        self.actor = actor
        self.version = 0
        self._generator = torch.Generator().manual_seed(seed)

    @property
    def device(self) -> torch.device:
        return next(self.actor.parameters()).device

    @property
    def feature_dim(self) -> int:
        return self.encoder.feature_dim

    @property
    def image_keys(self) -> tuple[str, ...]:
        return tuple(self.encoder.image_keys)

    def obs_to_tensors(self, obs) -> torch.Tensor | dict[str, torch.Tensor]:
        """numpy observation(s) -> tensors on this policy's device, dtypes kept."""
        return obs_to_tensors(obs, self.device)

    # -- what a learner trains (TrainablePolicy) ----------------------------------------------------

    def features(self, obs) -> torch.Tensor:
        return self.encoder(obs)

    def sample(self, features: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        action, log_prob, _ = self.actor.sample(features, generator)
        return action, log_prob

    def log_prob(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        mean, log_std = self.actor(features)
        u = torch.atanh(action.clamp(-_EDGE, _EDGE))
        return tanh_gaussian_log_prob(u, mean, log_std)

    def deterministic_action(self, features: torch.Tensor) -> torch.Tensor:
        mean, _ = self.actor(features)
        return torch.tanh(mean)

    def encoder_parameters(self):
        return self.encoder.parameters()

    def head_parameters(self):
        return self.actor.parameters()

    # -- acting --------------------------------------------------------------------------------

    @torch.no_grad()
    def act_batch(self, obs, deterministic: bool = False) -> np.ndarray:
        """(B, action_dim) float32 actions in [-1, 1] for a batch of observations."""
        features = self.encoder(self.obs_to_tensors(obs))
        if deterministic:
            action = self.deterministic_action(features)
        else:
            generator = self._generator if self.device.type == "cpu" else None
            action, _ = self.sample(features, generator)
        return action.clamp(-1.0, 1.0).cpu().numpy().astype(np.float32, copy=False)

    def act(self, obs, deterministic: bool = False) -> np.ndarray:
        """(action_dim,) float32 action in [-1, 1] for one observation."""
        if isinstance(obs, dict):
            batch = {key: np.asarray(value)[None] for key, value in obs.items()}
        else:
            batch = np.asarray(obs)[None]
        return self.act_batch(batch, deterministic)[0]

    def weights(self) -> dict[str, torch.Tensor]:
        """Detached CPU copies of the encoder's and actor's tensors, keyed 'encoder.*'/'actor.*'."""
        return {key: value.detach().cpu().clone() for key, value in self.state_dict().items()}

    def load_weights(self, weights: dict, version: int) -> None:
        """Copy in `weights` (all keys required, shapes must match) and record `version`."""
        self.load_state_dict(weights, strict=True)
        self.version = int(version)


def build_gaussian_policy(
    config: GaussianPolicyConfig, observation_space: gym.spaces.Space, action_space: gym.spaces.Space, seed: int = 0
) -> TorchPolicy:
    """A freshly initialised `TorchPolicy` for these spaces; `seed` fixes the initial weights.

    'mlp' takes a 1-D float Box (or a Dict of such vectors); 'cnn' takes a Dict with at least one
    uint8 (H, W, 3) camera Box. The action space must be a 1-D Box bounded by [-1, 1].
    """
    _check_spaces(config, observation_space, action_space)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = ObservationEncoder(observation_space, config.cnn_channels, config.cnn_strides, config.cnn_latent_dim)
        actor = TanhGaussianActor(
            encoder.feature_dim,
            int(action_space.shape[0]),
            config.hidden_sizes,
            config.layer_norm,
            config.log_std_min,
            config.log_std_max,
        )
    return TorchPolicy(encoder, actor, seed=seed)


def _check_spaces(config: GaussianPolicyConfig, observation_space: gym.spaces.Space, action_space: gym.spaces.Space) -> None:
    if not (isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1):
        raise ValueError(f"policy: the action space must be a 1-D Box, got {action_space}")
    if not (np.allclose(action_space.low, -1.0) and np.allclose(action_space.high, 1.0)):
        raise ValueError("policy: the action space must be bounded by [-1, 1] (the actor's tanh range)")
    has_images = isinstance(observation_space, gym.spaces.Dict) and any(
        is_image_space(space) for space in observation_space.spaces.values()
    )
    if config.type == "mlp" and has_images:
        raise ValueError("policy.type 'mlp' cannot take image observations; use policy.type 'cnn'")
    if config.type == "cnn" and not has_images:
        raise ValueError(
            "policy.type 'cnn' needs a Dict observation space with uint8 (H, W, 3) image keys; "
            f"got {observation_space} (use policy.type 'mlp' for state vectors)"
        )
    if not (is_vector_space(observation_space) or isinstance(observation_space, gym.spaces.Dict)):
        raise ValueError(f"policy: unsupported observation space {observation_space}")
