"""The algorithm registry: `algorithm.type` in a run config names the config class that builds it.

A new algorithm is one folder (config.py with an `AlgorithmConfig` subclass, its learner) and one
line here, or `ALGORITHMS.register("name", MyConfig)` from the user's own module (listed in the
run config's `imports`).
"""

from __future__ import annotations

from fleetrl.core.registry import Registry

ALGORITHMS = Registry("algorithm", {
    "sac": "fleetrl.algorithms.sac.config:SACConfig",
    "hg_dagger": "fleetrl.algorithms.hg_dagger.config:HGDAggerConfig",
})
DEFAULT_ALGORITHM = "sac"
