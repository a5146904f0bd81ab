"""The config bases of the pluggable learning components: what every policy and algorithm config offers.

A new kind is a config class (a subclass below, with `type: Literal["name"]`) whose `build`
imports its implementation lazily, plus one line in its registry (`fleetrl.policies.registry`,
`fleetrl.algorithms.registry`), or `register(...)` from the user's own module:

    class MyAlgoConfig(AlgorithmConfig):
        type: Literal["my_algo"] = "my_algo"
        def needs(self) -> AlgorithmNeeds: return AlgorithmNeeds(metric_names=("my_loss",))
        def build(self, policy, observation_space, action_space, device="cpu", seed=0) -> Algorithm:
            from my_package.learner import MyLearner
            return MyLearner(self, policy, observation_space, action_space, device, seed)

The runtime reads `needs()` and calls `build`; it never tests a kind's name.
"""

from __future__ import annotations

import abc

from pydantic import BaseModel, ConfigDict, Field

from fleetrl.core.interfaces import Algorithm, AlgorithmNeeds, TrainablePolicy


class PolicyConfig(BaseModel, abc.ABC):
    """Config of one policy network (run config key `policy`); observation keys and sizes come from
    the environment. `hidden_sizes` and `layer_norm` also shape a learner's own networks (SAC's
    critics) unless the algorithm's config says otherwise."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The policy kind (see `fleetrl.policies.registry`).")
    hidden_sizes: tuple[int, ...] = Field((256, 256), description="Widths of the MLP layers (actor and critics).")
    layer_norm: bool = Field(True, description="LayerNorm after each hidden layer (stabilises high update-to-data ratios).")
    augment_pad: int = Field(
        4, ge=0, description="Random-shift augmentation of camera frames in training batches: pad by this many pixels, crop back (0 = off)."
    )

    @abc.abstractmethod
    def build(self, observation_space, action_space, seed: int = 0) -> TrainablePolicy:
        """A freshly initialised policy for these spaces; `seed` fixes the initial weights. Raises
        ValueError naming the problem when the spaces do not suit this kind."""


class AlgorithmConfig(BaseModel, abc.ABC):
    """Config of one learning algorithm (run config key `algorithm`)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The algorithm kind (see `fleetrl.algorithms.registry`).")
    batch_size: int = Field(256, gt=0, description="Transitions per gradient step.")
    utd_ratio: int = Field(1, ge=1, description="Gradient steps per learner step (update-to-data ratio).")

    @abc.abstractmethod
    def needs(self) -> AlgorithmNeeds:
        """What this algorithm asks of the runtime (acting, data, pretraining, metric names)."""

    @abc.abstractmethod
    def build(self, policy: PolicyConfig, observation_space, action_space, device: str = "cpu", seed: int = 0) -> Algorithm:
        """The learner, with a fresh policy built from `policy`."""
