"""HG-DAgger: behaviour cloning fine-tuned online on interventions (human or scripted expert)."""

from fleetrl.algorithms.hg_dagger.config import HGDAggerConfig
from fleetrl.algorithms.hg_dagger.learner import HGDAggerLearner

__all__ = ["HGDAggerConfig", "HGDAggerLearner"]
