"""Policy networks: observation encoders, the tanh-Gaussian actor and the `TorchPolicy` that ships."""

from fleetrl.policies.config import PolicyConfig
from fleetrl.policies.torch_policy import TorchPolicy, build_policy

__all__ = ["PolicyConfig", "TorchPolicy", "build_policy"]
