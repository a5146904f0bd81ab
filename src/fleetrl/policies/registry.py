"""The policy registry: `policy.type` in a run config names the config class that builds it.

A new policy is one module (a `PolicyConfig` subclass whose `build` returns a `TrainablePolicy`)
and one line here, or `POLICIES.register("name", MyConfig)` from the user's own module (listed in
the run config's `imports`). Learners reach every kind through `TrainablePolicy` only.
"""

from __future__ import annotations

from fleetrl.core.registry import Registry

POLICIES = Registry("policy", {
    "mlp": "fleetrl.policies.config:GaussianPolicyConfig",
    "cnn": "fleetrl.policies.config:GaussianPolicyConfig",
})
DEFAULT_POLICY = "mlp"
