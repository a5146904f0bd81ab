"""A reward kind added from outside fleetrl (here, this test) is built from a config like fleetrl's own."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
from pydantic import Field

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.base import Reward
from fleetrl.rewards.build import build_reward
from fleetrl.rewards.config import REWARDS, RewardContext, RewardEntry, parse_rewards, register_reward
from fleetrl.rewards.entries import SuccessEntry


class ConstantReward(Reward):
    def __init__(self, value: float, at: str) -> None:
        self.value, self.at = value, at

    def __call__(self, obs, action, next_obs, info) -> float:
        return self.value


class ConstantEntry(RewardEntry):
    """A user's reward kind: `value` on every step."""

    type: Literal["constant"] = Field("constant", description="Reward type 'constant'.")
    value: float = Field(description="The reward of every step.")

    def build(self, context: RewardContext) -> Reward:
        return ConstantReward(self.value, context.at)


@pytest.fixture
def constant_kind():
    """'constant' registered for one test (the registry is process-wide)."""
    register_reward("constant", ConstantEntry)
    yield ConstantEntry
    REWARDS.unregister("constant")


def test_a_registered_reward_is_built_from_its_config(constant_kind):
    reward = build_reward([{"type": "task"}, {"type": "constant", "value": 2.0, "weight": 0.5}])
    weight, part = reward.parts[1]
    assert isinstance(part, ConstantReward) and weight == 0.5 and part.at == "rewards[1]"
    assert reward(None, np.zeros(2), None, {"task_reward": 1.0}) == pytest.approx(1.0 + 0.5 * 2.0)


def test_a_registered_reward_is_checked_like_fleetrl_s_own(constant_kind):
    with pytest.raises(ConfigError, match=r"rewards\[0\]\.value: Field required"):
        parse_rewards([{"type": "constant"}])
    with pytest.raises(ConfigError, match="known types: classifier, constant, human_label, success, task"):
        parse_rewards([{"type": "constnat"}])


def test_registering_refuses_a_taken_name_and_a_class_that_is_not_an_entry(constant_kind):
    register_reward("constant", ConstantEntry)  # the same class again: a module imported twice
    with pytest.raises(ValueError, match="registered already"):
        register_reward("success", ConstantEntry)
    with pytest.raises(TypeError, match="not a RewardEntry"):
        register_reward("plain", dict)  # type: ignore[arg-type]
    assert REWARDS.get("success") is SuccessEntry


def test_a_run_config_holds_a_registered_reward_typed_and_round_trips(constant_kind):
    import yaml

    from fleetrl.runtime.config import dump_run_config, parse_run_config

    config = parse_run_config({"env": {"id": "Pendulum-v1"}, "rewards": [{"type": "constant", "value": 3.0}]}, "run.yaml")
    assert isinstance(config.rewards[0], ConstantEntry) and config.rewards[0].value == 3.0
    assert parse_run_config(yaml.safe_load(dump_run_config(config)), "dumped") == config
