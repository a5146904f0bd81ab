"""Soft actor-critic with a critic ensemble (REDQ/RLPD) and DrQ-style image encoders."""

from fleetrl.algorithms.sac.config import SACConfig
from fleetrl.algorithms.sac.learner import SACLearner

__all__ = ["SACConfig", "SACLearner"]
